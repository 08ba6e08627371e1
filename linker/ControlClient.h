//===- ControlClient.h - talk to running programs' control sockets --------===//
//
// The client side of the runtime's control socket (protocol in
// runtime/src/server_linux.cpp): find the processes that listen, send them
// patches and events.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_LINKER_CONTROLCLIENT_H
#define HOTPATCH_LINKER_CONTROLCLIENT_H

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

/// Sends one request line; returns the reply line, "" if none came.
std::string askProcess(const std::string &Socket, const std::string &Request);

/// Every process of this user that answers; removes sockets of dead ones.
std::vector<RunningProcess> listRunningProcesses();

/// The result of sending a patch to one process.
struct ApplyReply {
  bool Ok = false;
  unsigned ChainIndex = 0, Functions = 0;
  double TotalMs = 0;
  std::string Text; // the raw reply, or why there was none
};
ApplyReply applyPatchTo(const RunningProcess &P, const std::string &PatchPath);

} // namespace hotpatch

#endif
