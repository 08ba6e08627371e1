//===- ControlClient.h - talk to running programs' control sockets --------===//
//
// The client side of the runtime's control socket (protocol in
// runtime/src/server_linux.cpp): find the processes that listen, send them
// patches and events.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_CONTROLCLIENT_H
#define HOTPATCH_TOOLS_CONTROLCLIENT_H

#include <string>
#include <vector>

namespace hotpatch {

struct RunningProcess {
  int Pid = 0;
  std::string Socket;
  std::string BuildId; // hex
  unsigned Applied = 0;
};

/// The directory of this user's control sockets.
std::string controlSocketDir();

/// The socket of one process ("" if it does not listen).
std::string controlSocketOf(int Pid);

/// Sends one request line; returns the reply line, "" if none came within
/// the timeout.
std::string askProcess(const std::string &Socket, const std::string &Request,
                       unsigned TimeoutMs = 2000);

/// Every process of this user that answers; removes sockets of dead ones.
std::vector<RunningProcess> listRunningProcesses();

/// Why listRunningProcesses() found nothing: the socket directory does not
/// exist, belongs to another user (the runtime then refuses to listen), or
/// holds no live socket.
std::string whyNoProcessListens();

/// Whether the socket directory exists, is a directory, belongs to this user
/// and is closed to others (the runtime listens only there).
bool controlSocketDirIsPrivate();

/// The build-id (hex) a patch file was made for; "" if it is unreadable.
std::string buildIdOfPatch(const std::string &Path);

/// The running processes of one build: those whose build-id (hex) starts
/// with `BuildId` (patches record up to 20 bytes of it).
std::vector<RunningProcess> processesOfBuild(const std::string &BuildId);

/// The result of sending a patch to one process.
struct ApplyReply {
  bool Ok = false;
  bool Answered = false;
  unsigned ChainIndex = 0, Functions = 0;
  double CheckMs = 0, MapMs = 0, TotalMs = 0;
  std::string Text; // the raw reply, or why there was none
};
ApplyReply applyPatchTo(const RunningProcess &P, const std::string &PatchPath);

} // namespace hotpatch

#endif
