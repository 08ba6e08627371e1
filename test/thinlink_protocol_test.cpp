// thinlink_protocol_test.cpp - the contract between the thinlink command and
// its resident thin linker (tools/ThinlinkProtocol.h): a request's bytes
// both ways, each way a request can break it, the socket directory's
// checks, and the key that ties a server to one thinlink-lld file.
#include "ThinlinkProtocol.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace hotpatch::thinlink_server;

namespace {

Request sample() {
  Request R;
  R.Cwd = "/home/me/project/build";
  R.Umask = 027;
  R.Env = {"PATH=/usr/bin:/bin", "TMPDIR=/tmp/x", "EMPTY="};
  R.Args = {"thinlink", "--patch", "--base", "./app", "-o", "p 1.hpp", "", "a\nb.o"};
  return R;
}

/// The payload of Bytes, after a header that must parse.
std::string payloadOf(const std::string &Bytes) {
  size_t Length = 0;
  std::string Why;
  long Header = parseHeader(Bytes, Length, Why);
  EXPECT_GT(Header, 0) << Why;
  EXPECT_EQ(Bytes.size(), size_t(Header) + Length);
  return Bytes.substr(size_t(Header));
}

/// The reason a payload is refused ("" if it is not).
std::string refusal(const std::string &Payload) {
  std::string Why;
  auto R = decodePayload(Payload, Why);
  EXPECT_EQ(R.has_value(), Why.empty());
  return Why;
}

std::string fields(std::initializer_list<std::string> Fs) {
  std::string P;
  for (const std::string &F : Fs)
    P += F + std::string(1, '\0');
  return P;
}

TEST(ThinlinkProtocol, RequestRoundTrips) {
  Request In = sample();
  std::string Why;
  auto Out = decodePayload(payloadOf(encode(In)), Why);
  ASSERT_TRUE(Out) << Why;
  EXPECT_EQ(Out->Cwd, In.Cwd);
  EXPECT_EQ(Out->Umask, In.Umask);
  EXPECT_EQ(Out->Env, In.Env);
  EXPECT_EQ(Out->Args, In.Args);
}

TEST(ThinlinkProtocol, HeaderNeedsMoreBytesUntilBothLines) {
  std::string Bytes = encode(sample());
  size_t Second = Bytes.find('\n', Bytes.find('\n') + 1);
  std::string Why;
  size_t Length = 0;
  for (size_t N : {size_t(0), size_t(3), Bytes.find('\n') + 1, Second})
    EXPECT_EQ(parseHeader(Bytes.substr(0, N), Length, Why), 0) << N << ": " << Why;
  EXPECT_EQ(parseHeader(Bytes.substr(0, Second + 1), Length, Why), long(Second + 1));
}

TEST(ThinlinkProtocol, HeaderRefusals) {
  auto Refuse = [](const std::string &Bytes) {
    std::string Why;
    size_t Length = 0;
    EXPECT_EQ(parseHeader(Bytes, Length, Why), -1) << Bytes;
    return Why;
  };
  EXPECT_EQ(Refuse("GET / HTTP/1.0\r\n\r\n"), "the request does not start with 'HPTL'");
  EXPECT_EQ(Refuse("HPTL 2\n10\n"), "the request is 'HPTL 2', this thin linker speaks 'HPTL 1'");
  EXPECT_EQ(Refuse(std::string(40, 'x')), "the request does not start with a 'HPTL' line");
  EXPECT_EQ(Refuse("HPTL 1\n" + std::to_string(kMaxPayload + 1) + "\n"),
            "the request's length is not a number up to " + std::to_string(kMaxPayload));
  EXPECT_EQ(Refuse("HPTL 1\n-5\n"),
            "the request's length is not a number up to " + std::to_string(kMaxPayload));
  EXPECT_EQ(Refuse("HPTL 1\n" + std::string(30, '1')), "the request's length line is too long");
}

TEST(ThinlinkProtocol, PayloadRefusals) {
  EXPECT_EQ(refusal(fields({"/d", "22", "0", "1", "thinlink"}).substr(0, 17)),
            "the request's last field has no terminating NUL");
  EXPECT_EQ(refusal(fields({"/d"})), "the request has no working directory and umask");
  EXPECT_EQ(refusal(fields({"d", "22", "0", "1", "thinlink"})),
            "the request's working directory is not an absolute path");
  EXPECT_EQ(refusal(fields({"/d", "9", "0", "1", "thinlink"})),
            "the request's umask '9' is not octal up to 777");
  EXPECT_EQ(refusal(fields({"/d", "1777", "0", "1", "thinlink"})),
            "the request's umask '1777' is not octal up to 777");
  EXPECT_EQ(refusal(fields({"/d", "22", "5", "A=1", "1", "thinlink"})),
            "the request's environment count is missing or larger than what follows");
  EXPECT_EQ(refusal(fields({"/d", "22", "0", "3", "thinlink"})),
            "the request's argument count is missing or larger than what follows");
  EXPECT_EQ(refusal(fields({"/d", "22", "0", "x", "thinlink"})),
            "the request's argument count is missing or larger than what follows");
  EXPECT_EQ(refusal(fields({"/d", "22", "0", "0"})), "the request has no arguments");
  EXPECT_EQ(refusal(fields({"/d", "22", "0", "1", "thinlink", "extra"})),
            "the request has fields after its arguments");
  EXPECT_EQ(refusal(fields({"/d", "22", "1", "NOEQUALS", "1", "thinlink"})),
            "the request's environment entry 'NOEQUALS' is not NAME=value");
  EXPECT_EQ(refusal(fields({"/d", "22", "1", "=x", "1", "thinlink"})),
            "the request's environment entry '=x' is not NAME=value");
  EXPECT_EQ(refusal(fields({"/d", "22", "0", "1", "thinlink"})), "");
}

/// A fresh directory under the test's temporary directory.
std::string freshPath(const char *Name) {
  const char *T = getenv("TMPDIR");
  std::string P = std::string(T && *T ? T : "/tmp") + "/hptl-test-" + std::to_string(getpid()) +
                  "-" + Name;
  std::string Rm = "rm -rf '" + P + "'";
  EXPECT_EQ(system(Rm.c_str()), 0);
  return P;
}

TEST(ThinlinkProtocol, SocketDirIsCreatedForThisUserAlone) {
  std::string Dir = freshPath("dir");
  setenv("HOTPATCH_THINLINK_SOCKET_DIR", Dir.c_str(), 1);
  std::string Why;
  EXPECT_EQ(socketDir(Why), Dir) << Why;
  struct stat St;
  ASSERT_EQ(stat(Dir.c_str(), &St), 0);
  EXPECT_EQ(St.st_mode & 0777, 0700u);
  // A directory others can enter is not used.
  chmod(Dir.c_str(), 0755);
  EXPECT_EQ(socketDir(Why), "");
  EXPECT_EQ(Why, Dir + " is not a directory of this user alone (mode 0700)");
  rmdir(Dir.c_str());
  // Nor a symbolic link to one.
  std::string Target = freshPath("target");
  ASSERT_EQ(mkdir(Target.c_str(), 0700), 0);
  ASSERT_EQ(symlink(Target.c_str(), Dir.c_str()), 0);
  Why.clear();
  EXPECT_EQ(socketDir(Why), "");
  EXPECT_EQ(Why, Dir + " is not a directory of this user alone (mode 0700)");
  unlink(Dir.c_str());
  rmdir(Target.c_str());
  unsetenv("HOTPATCH_THINLINK_SOCKET_DIR");
}

TEST(ThinlinkProtocol, RelativeSocketDirIsMadeAbsolute) {
  std::string Dir = freshPath("relative");
  ASSERT_EQ(mkdir(Dir.c_str(), 0700), 0);
  char Old[4096];
  ASSERT_TRUE(getcwd(Old, sizeof Old));
  ASSERT_EQ(chdir(Dir.c_str()), 0);
  setenv("HOTPATCH_THINLINK_SOCKET_DIR", "sockets", 1);
  std::string Why;
  char Here[4096];
  ASSERT_TRUE(getcwd(Here, sizeof Here));
  EXPECT_EQ(socketDir(Why), std::string(Here) + "/sockets") << Why;
  unsetenv("HOTPATCH_THINLINK_SOCKET_DIR");
  rmdir((std::string(Here) + "/sockets").c_str());
  ASSERT_EQ(chdir(Old), 0);
  rmdir(Dir.c_str());
}

TEST(ThinlinkProtocol, KeyNamesOneVersionOfTheFile) {
  std::string File = freshPath("lld");
  std::ofstream(File) << "one";
  std::string First = keyOf(File);
  EXPECT_EQ(First.size(), 16u);
  EXPECT_EQ(keyOf(File), First);
  std::ofstream(File) << "other!";
  EXPECT_NE(keyOf(File), First);
  unlink(File.c_str());
  EXPECT_EQ(keyOf(File), "");
  EXPECT_LT(socketPath("/run/user/1000/hotpatch", First).size(), 108u);
}

TEST(ThinlinkProtocol, ServerCanBeTurnedOff) {
  unsetenv("HOTPATCH_THINLINK_SERVER");
  EXPECT_TRUE(enabled());
  setenv("HOTPATCH_THINLINK_SERVER", "0", 1);
  EXPECT_FALSE(enabled());
  unsetenv("HOTPATCH_THINLINK_SERVER");
}

} // namespace
