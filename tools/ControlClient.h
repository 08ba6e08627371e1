//===- ControlClient.h - talk to running programs' control sockets --------===//
//
// The client side of the runtime's control socket (the contract:
// runtime/include/hotpatch/control_protocol.h): find the processes of this
// user that listen, send them patches and events. Nothing a socket's name
// says is believed: a listener is talked to only when the kernel reports
// (SO_PEERCRED) that it runs as this user, and a process's pid is the one
// the kernel reports.
//
// Plain C++ and POSIX (no LLVM): the `hotpatch` command links it alone, and
// `hotpatch dev` (DevLoop.cpp) links it too.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_CONTROLCLIENT_H
#define HOTPATCH_TOOLS_CONTROLCLIENT_H

#include <map>
#include <string>
#include <vector>

namespace hotpatch {

struct RunningProcess {
  int Pid = 0;
  std::string Socket;  // the abstract name, without its leading NUL
  std::string BuildId; // hex
  unsigned Applied = 0;
};

/// The abstract socket name of one process of this user that listens
/// ("" if none does).
std::string controlSocketOf(int Pid);

/// Sends one request line to the listener `Socket` (an abstract name) if it
/// runs as this user (and, when `Pid` is not 0, is that process); returns
/// the reply line, "" if there was none within the timeout or the listener
/// is someone else.
std::string askProcess(const std::string &Socket, const std::string &Request,
                       unsigned TimeoutMs = 2000, int Pid = 0);

/// What a look for listening processes found.
struct ProcessScan {
  std::vector<RunningProcess> Processes; // of this user, this protocol
  /// Listeners under this user's prefix that run as another user (never
  /// sent anything): "<name> (uid N)".
  std::vector<std::string> Impostors;
  /// Processes of this user speaking another protocol version:
  /// "<pid> (version N)".
  std::vector<std::string> OtherVersions;
  std::string Error; // the socket table could not be read
};
ProcessScan scanProcesses();

/// Every process of this user that answers (scanProcesses().Processes).
std::vector<RunningProcess> listRunningProcesses();

/// Why scanProcesses() found no process: the socket table is unreadable,
/// listeners under this user's name are another user's, processes speak
/// another protocol version, or nothing listens.
std::string whyNoProcessListens(const ProcessScan &Scan);

/// The build-id (hex) a patch file was made for; "" if it is unreadable.
std::string buildIdOfPatch(const std::string &Path);

/// The running processes of one build: those whose build-id (hex) starts
/// with `BuildId` (patches record up to 20 bytes of it).
std::vector<RunningProcess> processesOfBuild(const std::string &BuildId);

/// The same for a caller that lists processes again and again (hotpatch
/// dev, at every save): only listeners not in Known are asked who they
/// are; Known keeps the answers of those still listening. A process's build
/// is that of its executable, fixed for its life; a name taken over by a
/// new process after the old one ended is caught by the apply itself (the
/// runtime refuses a patch of another build, and the request checks the
/// peer's pid).
using KnownProcesses = std::map<std::string, RunningProcess>; // by socket name
std::vector<RunningProcess> processesOfBuild(const std::string &BuildId,
                                             KnownProcesses &Known);

/// The result of sending a patch to one process.
struct ApplyReply {
  bool Ok = false;
  bool Answered = false;
  unsigned ChainIndex = 0, Functions = 0;
  double CheckMs = 0, MapMs = 0, TotalMs = 0;
  std::string Text; // the raw reply, or why there was none
};
ApplyReply applyPatchTo(const RunningProcess &P, const std::string &PatchPath);

/// The process refused the patch because none of its images is the build
/// the patch was made for ("error wrong build"): for a shared library's
/// patch, it has not loaded that library (it applies the patch from the
/// library's journal when it does).
bool refusedAsOtherBuild(const ApplyReply &R);

/// `S` read as a whole as an unsigned number of base `Base` (2 to 16, no
/// sign, no prefix, at most 32 bits); false, with `Out` unchanged, if it is
/// not one.
bool parseUnsigned(const std::string &S, unsigned Base, unsigned &Out);
/// `S` read as a whole as a decimal int, '-' allowed; false, with `Out`
/// unchanged, if it is not one.
bool parseInt(const std::string &S, int &Out);

} // namespace hotpatch

#endif
