//===- ThinlinkProtocol.cpp - the resident thin linker's contract ----------===//
//
// The socket's place and name, and a request's bytes (ThinlinkProtocol.h).
//
//===----------------------------------------------------------------------===//
#include "ThinlinkProtocol.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hotpatch::thinlink_server {

bool enabled() {
  const char *V = getenv("HOTPATCH_THINLINK_SERVER");
  return !V || strcmp(V, "0") != 0;
}

/// Dir, created if missing, if it is a directory of this user alone.
static bool ownDirectory(const std::string &Dir, std::string &Why) {
  if (mkdir(Dir.c_str(), 0700) != 0 && errno != EEXIST) {
    Why = "cannot create " + Dir + ": " + strerror(errno);
    return false;
  }
  struct stat St;
  if (lstat(Dir.c_str(), &St) != 0) {
    Why = "cannot read " + Dir + ": " + strerror(errno);
    return false;
  }
  if (!S_ISDIR(St.st_mode) || St.st_uid != getuid() || (St.st_mode & 077) != 0) {
    Why = Dir + " is not a directory of this user alone (mode 0700)";
    return false;
  }
  return true;
}

std::string socketDir(std::string &Why) {
  std::string Dir;
  if (const char *D = getenv("HOTPATCH_THINLINK_SOCKET_DIR"); D && *D)
    Dir = D;
  else if (const char *R = getenv("XDG_RUNTIME_DIR"); R && *R)
    Dir = std::string(R) + "/hotpatch";
  else
    Dir = "/tmp/hotpatch-" + std::to_string(getuid());
  if (Dir[0] != '/') { // the server runs in /, not here
    char Cwd[4096];
    if (!getcwd(Cwd, sizeof Cwd)) {
      Why = "cannot read the working directory: " + std::string(strerror(errno));
      return {};
    }
    Dir = std::string(Cwd) + "/" + Dir;
  }
  return ownDirectory(Dir, Why) ? Dir : std::string();
}

std::string keyOf(const std::string &Path) {
  struct stat St;
  if (stat(Path.c_str(), &St) != 0)
    return {};
  // FNV-1a over the identity: short enough for a socket's 108-byte path.
  uint64_t H = 1469598103934665603ull;
  auto Mix = [&](uint64_t V) {
    for (int I = 0; I < 8; ++I, V >>= 8) {
      H ^= V & 0xff;
      H *= 1099511628211ull;
    }
  };
  Mix(St.st_dev);
  Mix(St.st_ino);
  Mix(uint64_t(St.st_size));
  Mix(uint64_t(St.st_mtim.tv_sec));
  Mix(uint64_t(St.st_mtim.tv_nsec));
  Mix(getuid());
  char Hex[17];
  snprintf(Hex, sizeof Hex, "%016llx", static_cast<unsigned long long>(H));
  return Hex;
}

bool sendAll(int Fd, const std::string &Bytes, size_t From) {
  for (size_t Done = From; Done < Bytes.size();) {
    ssize_t N = send(Fd, Bytes.data() + Done, Bytes.size() - Done, MSG_NOSIGNAL);
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0)
      return false;
    Done += size_t(N);
  }
  return true;
}

std::string socketPath(const std::string &Dir, const std::string &Key) {
  return Dir + "/tl-" + Key + ".sock";
}

std::string lockPath(const std::string &Dir, const std::string &Key) {
  return Dir + "/tl-" + Key + ".lock";
}

std::string encode(const Request &R) {
  std::string P;
  auto Field = [&](const std::string &S) {
    P += S;
    P += '\0';
  };
  Field(R.Cwd);
  char Mask[8];
  snprintf(Mask, sizeof Mask, "%o", R.Umask & 0777);
  Field(Mask);
  Field(std::to_string(R.Env.size()));
  for (const std::string &E : R.Env)
    Field(E);
  Field(std::to_string(R.Args.size()));
  for (const std::string &A : R.Args)
    Field(A);
  return std::string(kMagic) + " " + std::to_string(kVersion) + "\n" +
         std::to_string(P.size()) + "\n" + P;
}

/// A decimal or octal number that is the whole of S.
static bool number(const std::string &S, int Base, unsigned long long Max,
                   unsigned long long &Out) {
  if (S.empty() || S.size() > 20)
    return false;
  for (char C : S)
    if (C < '0' || C > (Base == 8 ? '7' : '9'))
      return false;
  errno = 0;
  Out = strtoull(S.c_str(), nullptr, Base);
  return errno == 0 && Out <= Max;
}

long parseHeader(const std::string &Bytes, size_t &PayloadLength, std::string &Why) {
  size_t First = Bytes.find('\n');
  if (First == std::string::npos) {
    if (Bytes.size() > 32) {
      Why = "the request does not start with a '" + std::string(kMagic) + "' line";
      return -1;
    }
    return 0;
  }
  std::string Line = Bytes.substr(0, First);
  std::string Want = std::string(kMagic) + " " + std::to_string(kVersion);
  if (Line.compare(0, strlen(kMagic), kMagic) != 0) {
    Why = "the request does not start with '" + std::string(kMagic) + "'";
    return -1;
  }
  if (Line != Want) {
    Why = "the request is '" + Line.substr(0, 32) + "', this thin linker speaks '" + Want + "'";
    return -1;
  }
  size_t Second = Bytes.find('\n', First + 1);
  if (Second == std::string::npos) {
    if (Bytes.size() - First > 24) {
      Why = "the request's length line is too long";
      return -1;
    }
    return 0;
  }
  unsigned long long Len = 0;
  if (!number(Bytes.substr(First + 1, Second - First - 1), 10, kMaxPayload, Len)) {
    Why = "the request's length is not a number up to " + std::to_string(kMaxPayload);
    return -1;
  }
  PayloadLength = size_t(Len);
  return long(Second + 1);
}

std::optional<Request> decodePayload(const std::string &Payload, std::string &Why) {
  std::vector<std::string> Fields;
  size_t Pos = 0;
  while (Pos < Payload.size()) {
    size_t End = Payload.find('\0', Pos);
    if (End == std::string::npos) {
      Why = "the request's last field has no terminating NUL";
      return std::nullopt;
    }
    if (Fields.size() == kMaxFields + 4) {
      Why = "the request has more than " + std::to_string(kMaxFields) + " fields";
      return std::nullopt;
    }
    Fields.emplace_back(Payload, Pos, End - Pos);
    Pos = End + 1;
  }
  Request R;
  size_t I = 0;
  auto Count = [&](const char *What, std::vector<std::string> &Into) {
    unsigned long long N = 0;
    if (I >= Fields.size() || !number(Fields[I], 10, kMaxFields, N) ||
        N > Fields.size() - I - 1) {
      Why = std::string("the request's ") + What + " count is missing or larger than what follows";
      return false;
    }
    Into.assign(Fields.begin() + long(I) + 1, Fields.begin() + long(I + 1 + N));
    I += 1 + N;
    return true;
  };
  unsigned long long Mask = 0;
  if (Fields.size() < 2) {
    Why = "the request has no working directory and umask";
    return std::nullopt;
  }
  R.Cwd = Fields[0];
  if (R.Cwd.empty() || R.Cwd[0] != '/') {
    Why = "the request's working directory is not an absolute path";
    return std::nullopt;
  }
  if (!number(Fields[1], 8, 0777, Mask)) {
    Why = "the request's umask '" + Fields[1].substr(0, 16) + "' is not octal up to 777";
    return std::nullopt;
  }
  R.Umask = unsigned(Mask);
  I = 2;
  if (!Count("environment", R.Env) || !Count("argument", R.Args))
    return std::nullopt;
  if (I != Fields.size() || R.Args.empty()) {
    Why = R.Args.empty() ? "the request has no arguments"
                         : "the request has fields after its arguments";
    return std::nullopt;
  }
  for (const std::string &E : R.Env)
    if (E.find('=') == std::string::npos || E[0] == '=') {
      Why = "the request's environment entry '" + E.substr(0, 32) + "' is not NAME=value";
      return std::nullopt;
    }
  return R;
}

} // namespace hotpatch::thinlink_server
