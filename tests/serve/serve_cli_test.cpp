// The `cephtrace serve` program itself: it refuses a non-loopback address without a token,
// says where it listens, answers, and stops cleanly on SIGTERM.
#include <csignal>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.hpp"

namespace cephtrace {
namespace {

std::string cephtrace_binary() { return (test::binary_dir() / "bin" / "cephtrace").string(); }

TEST(ServeCli, NonLoopbackWithoutTokenRefusesToStart) {
  const std::string cmd = cephtrace_binary() + " serve --host 0.0.0.0 --port 0 --model-dir " +
                          test::fixture_models_dir().string() + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_TRUE(p);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(out.find("--token"), std::string::npos) << out;
}

TEST(ServeCli, StartsAnswersAndStopsOnSigterm) {
  int out_pipe[2];
  ASSERT_EQ(::pipe(out_pipe), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::close(out_pipe[0]);
    const std::string models = test::fixture_models_dir().string();
    ::execl(cephtrace_binary().c_str(), "cephtrace", "serve", "--port", "0", "--quiet", "--model-dir",
            models.c_str(), "--threads", "1", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  // The first line names the address.
  std::string line;
  char c;
  while (::read(out_pipe[0], &c, 1) == 1 && c != '\n') line += c;
  const auto at = line.find("http://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << line;
  const int port = std::stoi(line.substr(at + 17));
  httplib::Client client("127.0.0.1", port);
  const auto r = client.Get("/v1/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(nlohmann::json::parse(r->body)["status"], "ok");
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ::close(out_pipe[0]);
}

}  // namespace
}  // namespace cephtrace
