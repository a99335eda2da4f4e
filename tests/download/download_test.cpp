// download-weights against a loopback hub (tests/download/hub_server.hpp): nothing here
// touches anything but 127.0.0.1.
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "cephtrace/download.hpp"
#include "cephtrace/model_contract.hpp"
#include "download/sha256.hpp"
#include "hub_server.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

namespace fs = std::filesystem;
using test::HubServer;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

// Deterministic pseudo-random bytes standing in for a model file.
std::string fake_model(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  for (auto& c : s) seed = seed * 1664525u + 1013904223u, c = char(seed >> 24);
  return s;
}

const ModelContract& contract(std::string_view key) {
  for (const auto& c : model_contracts())
    if (c.name == key) return c;
  throw std::logic_error("no such key");
}

// A hub serving the seven fixture files, and options pointing at it.
class DownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = test::temp_dir() / "models";
    unsigned seed = 1;
    for (const auto& c : model_contracts()) {
      // Stage 1 is larger, so that a connection can drop in the middle of it.
      bodies_[std::string(c.name)] = fake_model(c.name == "stage1" ? 200'000 : 3'000 + seed, seed);
      ++seed;
      server_.set(path_of(c.name), route_of(c.name));
    }
  }

  // As on the real hub: the files sit flat at the repository root, not in stage0/, stage1/.
  std::string path_of(std::string_view key) const {
    return "/CephTrace/cephtrace-v4/resolve/main/" +
           fs::path(contract(key).relative_path).filename().string();
  }
  fs::path file_of(std::string_view key) const { return out_ / contract(key).relative_path; }
  fs::path part_of(std::string_view key) const { return file_of(key).string() + ".part"; }
  HubServer::Route route_of(std::string_view key) {
    HubServer::Route r;
    r.body = bodies_[std::string(key)];
    return r;
  }
  static HubServer::Route error_route(int status) {
    HubServer::Route r;
    r.status = status;
    return r;
  }

  DownloadOptions options() const {
    DownloadOptions o;
    o.endpoint = server_.endpoint();
    o.output_dir = out_;
    for (const auto& [key, body] : bodies_) o.expected_sizes[key] = body.size();
    o.connect_timeout = std::chrono::seconds(2);
    o.stall_timeout = std::chrono::seconds(3);
    o.check_model_without_checksum = false;  // the bodies are random bytes, not ONNX
    return o;
  }

  static const FileOutcome& outcome(const DownloadReport& r, std::string_view key) {
    for (const auto& f : r.files)
      if (f.key == key) return f;
    throw std::logic_error("key not in report");
  }

  int requests_for(std::string_view key) const {
    int n = 0;
    for (const auto& r : server_.requests()) n += r.path == path_of(key);
    return n;
  }

  HubServer server_;
  std::map<std::string, std::string> bodies_;
  fs::path out_;
};

TEST_F(DownloadTest, DownloadsAllSevenFilesIntoTheModelLayout) {
  std::uint64_t stage1_progress = 0;
  auto o = options();
  o.on_progress = [&](const DownloadProgress& p) {
    if (p.key == "stage1") {
      EXPECT_EQ(p.bytes_total, 200'000u);
      stage1_progress = std::max(stage1_progress, p.bytes_done);
    }
  };
  int done_callbacks = 0;
  o.on_file_done = [&](const FileOutcome&) { ++done_callbacks; };

  const auto report = download_weights(o);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report.files.size(), 7u);
  EXPECT_EQ(report.count(DownloadStatus::Downloaded), 7);
  EXPECT_EQ(done_callbacks, 7);
  for (const auto& c : model_contracts()) {
    EXPECT_EQ(read_file(out_ / c.relative_path), bodies_[std::string(c.name)]) << c.name;
    EXPECT_FALSE(fs::exists(part_of(c.name))) << c.name;
  }
  // The hub's flat names, mapped into the model layout (spec §2), as the reference does.
  const std::map<std::string, std::string> flat_to_local{
      {"v4_stage0_profile.onnx", "stage0/v4_stage0_profile.onnx"},
      {"z1_cranial_base_contours.onnx", "stage0/z1_cranial_base_contours.onnx"},
      {"z2_midface_contours.onnx", "stage0/z2_midface_contours.onnx"},
      {"z3_mandible_contours.onnx", "stage0/z3_mandible_contours.onnx"},
      {"z4_posterior_contours.onnx", "stage0/z4_posterior_contours.onnx"},
      {"phase0e_model.onnx", "stage0/phase0e_model.onnx"},
      {"v4_stage1.onnx", "stage1/v4_stage1.onnx"}};
  std::set<std::string> requested;
  for (const auto& r : server_.requests()) requested.insert(r.path);
  ASSERT_EQ(requested.size(), flat_to_local.size());
  for (const auto& [flat, local] : flat_to_local) {
    EXPECT_TRUE(requested.count("/CephTrace/cephtrace-v4/resolve/main/" + flat)) << flat;
    EXPECT_TRUE(fs::is_regular_file(out_ / local)) << local;
  }
  EXPECT_EQ(stage1_progress, 200'000u);
  for (const auto& r : server_.requests()) EXPECT_EQ(r.authorization, "");  // no token given
}

TEST_F(DownloadTest, SkipsFilesAlreadyPresentWithAPlausibleSize) {
  ASSERT_TRUE(download_weights(options()).ok());
  // A truncated zone 3 (not more than half its expected size) is fetched again.
  write_file(file_of("zone3"), bodies_["zone3"].substr(0, bodies_["zone3"].size() / 2));
  const auto before = server_.requests().size();

  const auto report = download_weights(options());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.count(DownloadStatus::Skipped), 6);
  EXPECT_EQ(outcome(report, "zone3").status, DownloadStatus::Downloaded);
  EXPECT_EQ(server_.requests().size(), before + 1);
  EXPECT_EQ(read_file(file_of("zone3")), bodies_["zone3"]);
}

TEST_F(DownloadTest, ForceDownloadsPresentFilesAgain) {
  ASSERT_TRUE(download_weights(options()).ok());
  write_file(file_of("derive"), std::string(bodies_["derive"].size(), 'x'));  // corrupted
  auto o = options();
  o.force = true;
  const auto report = download_weights(o);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.count(DownloadStatus::Downloaded), 7);
  EXPECT_EQ(read_file(file_of("derive")), bodies_["derive"]);
  EXPECT_EQ(requests_for("derive"), 2);
}

TEST_F(DownloadTest, OnlyFetchesTheRequestedKeys) {
  auto o = options();
  o.keys = {"stage1", "derive"};
  const auto report = download_weights(o);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report.files.size(), 2u);
  EXPECT_EQ(report.files[0].key, "derive");  // contract order
  EXPECT_EQ(report.files[1].key, "stage1");
  EXPECT_TRUE(fs::exists(file_of("stage1")));
  EXPECT_TRUE(fs::exists(file_of("derive")));
  EXPECT_FALSE(fs::exists(file_of("profile")));
  EXPECT_EQ(server_.requests().size(), 2u);
}

TEST_F(DownloadTest, RejectsAnUnknownKey) {
  auto o = options();
  o.keys = {"zone5"};
  try {
    download_weights(o);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("zone5"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("stage1"), std::string::npos);
  }
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(DownloadTest, ResumesAfterAConnectionDropWithinTheRun) {
  auto route = route_of("stage1");
  route.drops = 1;
  route.drop_after = 80'000;
  server_.set(path_of("stage1"), route);
  auto o = options();
  o.keys = {"stage1"};

  const auto report = download_weights(o);
  ASSERT_TRUE(report.ok()) << report.files[0].message;
  EXPECT_EQ(read_file(file_of("stage1")), bodies_["stage1"]);
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].range, "");
  EXPECT_EQ(requests[1].range, "bytes=80000-");
}

TEST_F(DownloadTest, ResumesAPartialFileOnTheNextRun) {
  auto route = route_of("stage1");
  route.drops = 1;
  route.drop_after = 120'000;
  server_.set(path_of("stage1"), route);
  auto o = options();
  o.keys = {"stage1"};
  o.max_attempts = 1;

  const auto first = download_weights(o);
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.files[0].message.find("stage1/v4_stage1.onnx"), std::string::npos);
  EXPECT_NE(first.files[0].message.find("resume"), std::string::npos);
  EXPECT_FALSE(fs::exists(file_of("stage1")));  // never a half-written model
  ASSERT_TRUE(fs::exists(part_of("stage1")));
  EXPECT_EQ(fs::file_size(part_of("stage1")), 120'000u);

  const auto second = download_weights(o);
  ASSERT_TRUE(second.ok()) << second.files[0].message;
  EXPECT_EQ(read_file(file_of("stage1")), bodies_["stage1"]);
  EXPECT_FALSE(fs::exists(part_of("stage1")));
  EXPECT_EQ(server_.requests().back().range, "bytes=120000-");
}

TEST_F(DownloadTest, StartsOverWhenTheServerIgnoresTheRange) {
  write_file(part_of("zone1"), "stale bytes from elsewhere");
  auto route = route_of("zone1");
  route.ignore_range = true;
  server_.set(path_of("zone1"), route);
  auto o = options();
  o.keys = {"zone1"};
  ASSERT_TRUE(download_weights(o).ok());
  EXPECT_EQ(read_file(file_of("zone1")), bodies_["zone1"]);
}

TEST_F(DownloadTest, StartsOverWhenThePartialFileIsLongerThanTheRemoteOne) {
  write_file(part_of("zone2"), std::string(bodies_["zone2"].size() + 10, 'x'));  // -> 416
  auto o = options();
  o.keys = {"zone2"};
  const auto report = download_weights(o);
  ASSERT_TRUE(report.ok()) << report.files[0].message;
  EXPECT_EQ(read_file(file_of("zone2")), bodies_["zone2"]);
}

TEST_F(DownloadTest, ForceDiscardsAPartialFile) {
  write_file(part_of("zone4"), "garbage");
  auto o = options();
  o.keys = {"zone4"};
  o.force = true;
  ASSERT_TRUE(download_weights(o).ok());
  EXPECT_EQ(read_file(file_of("zone4")), bodies_["zone4"]);
  EXPECT_EQ(server_.requests().back().range, "");
}

TEST_F(DownloadTest, RejectsAFileFarSmallerThanThePublishedSize) {
  auto o = options();
  o.keys = {"profile"};
  o.expected_sizes["profile"] = 100 * bodies_["profile"].size();  // e.g. an LFS pointer
  const auto report = download_weights(o);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.files[0].message.find("stage0/v4_stage0_profile.onnx"), std::string::npos);
  EXPECT_NE(report.files[0].message.find("published"), std::string::npos);
  EXPECT_FALSE(fs::exists(file_of("profile")));
  EXPECT_FALSE(fs::exists(part_of("profile")));
}

TEST_F(DownloadTest, RejectsASizeDifferentFromTheOneTheHubLists) {
  auto route = route_of("derive");
  route.headers = {{"X-Linked-Size", std::to_string(bodies_["derive"].size() + 1)}};
  server_.set(path_of("derive"), route);
  auto o = options();
  o.keys = {"derive"};
  const auto report = download_weights(o);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.files[0].message.find("size mismatch"), std::string::npos);
  EXPECT_NE(report.files[0].message.find("phase0e_model.onnx"), std::string::npos);
  EXPECT_FALSE(fs::exists(file_of("derive")));
  EXPECT_FALSE(fs::exists(part_of("derive")));
}

TEST_F(DownloadTest, FollowsTheHubRedirectAndChecksTheLinkedSha256) {
  const std::string sha = detail::sha256_hex(bodies_["stage1"]);
  // As on the hub: the sha256 sits on the redirect, the CDN's own ETag is no sha256.
  HubServer::Route redirect;
  redirect.redirect_to = "/cdn/stage1";
  redirect.headers = {{"X-Linked-Etag", "\"" + sha + "\""}};
  server_.set(path_of("stage1"), redirect);
  auto cdn = route_of("stage1");
  cdn.headers = {{"ETag", "\"d41d8\""}};
  server_.set("/cdn/stage1", cdn);
  auto o = options();
  o.keys = {"stage1"};
  o.token = "hf_secret";
  const auto report = download_weights(o);
  ASSERT_TRUE(report.ok()) << report.files[0].message;
  EXPECT_EQ(read_file(file_of("stage1")), bodies_["stage1"]);
  ASSERT_EQ(server_.requests().size(), 2u);
  EXPECT_EQ(server_.requests()[0].authorization, "Bearer hf_secret");
}

TEST_F(DownloadTest, RejectsASha256Mismatch) {
  auto route = route_of("zone1");
  route.headers = {{"ETag", "\"" + std::string(64, 'a') + "\""}};
  server_.set(path_of("zone1"), route);
  auto o = options();
  o.keys = {"zone1"};
  const auto report = download_weights(o);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.files[0].message.find("sha256 mismatch"), std::string::npos);
  EXPECT_FALSE(fs::exists(file_of("zone1")));
  EXPECT_FALSE(fs::exists(part_of("zone1")));
}

// Without a checksum from the server, junk must not become a model (issue 17: 314 MB of
// junk was accepted); a real ONNX file matching the contract still is.
TEST_F(DownloadTest, WithoutAChecksumOnlyAnOnnxModelMatchingItsContractIsKept) {
  auto o = options();
  o.keys = {"zone1"};
  o.check_model_without_checksum = true;
  const auto junk = download_weights(o);
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.files[0].message.find("not a usable model"), std::string::npos) << junk.files[0].message;
  EXPECT_FALSE(fs::exists(file_of("zone1")));
  EXPECT_FALSE(fs::exists(part_of("zone1")));

  const fs::path fixture = test::fixture_models_dir() / contract("zone1").relative_path;
  bodies_["zone1"] = read_file(fixture);
  server_.set(path_of("zone1"), route_of("zone1"));
  o.expected_sizes["zone1"] = bodies_["zone1"].size();
  const auto real = download_weights(o);
  ASSERT_TRUE(real.ok()) << real.files[0].message;
  EXPECT_EQ(read_file(file_of("zone1")), bodies_["zone1"]);
}

TEST_F(DownloadTest, ReportsA404AndFetchesTheOtherFiles) {
  server_.set(path_of("zone2"), error_route(404));
  const auto report = download_weights(options());
  EXPECT_FALSE(report.ok());
  const auto& zone2 = outcome(report, "zone2");
  EXPECT_EQ(zone2.status, DownloadStatus::Failed);
  EXPECT_NE(zone2.message.find("404"), std::string::npos);
  EXPECT_NE(zone2.message.find("stage0/z2_midface_contours.onnx"), std::string::npos);
  EXPECT_NE(zone2.message.find("--repo-id"), std::string::npos);
  EXPECT_FALSE(fs::exists(file_of("zone2")));
  EXPECT_FALSE(fs::exists(part_of("zone2")));  // the error page was not kept as data
  EXPECT_EQ(report.count(DownloadStatus::Downloaded), 6);
}

TEST_F(DownloadTest, AFailedForcedDownloadKeepsThePreviousFile) {
  ASSERT_TRUE(download_weights(options()).ok());
  server_.set(path_of("zone3"), error_route(404));
  auto o = options();
  o.keys = {"zone3"};
  o.force = true;
  EXPECT_FALSE(download_weights(o).ok());
  EXPECT_EQ(read_file(file_of("zone3")), bodies_["zone3"]);
}

TEST_F(DownloadTest, A401StopsTheRunAndAsksForAToken) {
  server_.set(path_of("profile"), error_route(401));
  const auto report = download_weights(options());
  EXPECT_EQ(report.count(DownloadStatus::Failed), 7);
  EXPECT_NE(report.files[0].message.find("401"), std::string::npos);
  EXPECT_NE(report.files[0].message.find("HF_TOKEN"), std::string::npos);
  EXPECT_NE(report.files[1].message.find("not attempted"), std::string::npos);
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(DownloadTest, A403ExplainsGatedAccess) {
  server_.set(path_of("profile"), error_route(403));
  auto o = options();
  o.keys = {"profile"};
  o.token = "hf_wrong";
  const auto report = download_weights(o);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.files[0].message.find("403"), std::string::npos);
  EXPECT_NE(report.files[0].message.find("gated"), std::string::npos);
}

TEST_F(DownloadTest, AnUnreachableEndpointFailsClearly) {
  // A port that was just free: nothing listens there, so the connection is refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);

  auto o = options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const auto report = download_weights(o);
  EXPECT_EQ(report.count(DownloadStatus::Failed), 7);
  EXPECT_NE(report.files[0].message.find("cannot connect"), std::string::npos);
  EXPECT_NE(report.files[0].message.find(o.endpoint), std::string::npos);
  EXPECT_NE(report.files[6].message.find("not attempted"), std::string::npos);
  EXPECT_FALSE(fs::exists(out_ / "stage1"));
}

TEST_F(DownloadTest, AWriteFailureStopsTheRunAndLeavesNoFinalFile) {
  // Stand-in for a full disk: cap the size of files this process may write.
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit cap = old;
  cap.rlim_cur = 50'000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &cap), 0);
  auto o = options();
  o.keys = {"stage1"};
  const auto report = download_weights(o);
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);

  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.files[0].message.find("cannot write"), std::string::npos);
  EXPECT_NE(report.files[0].message.find("v4_stage1.onnx.part"), std::string::npos);
  EXPECT_FALSE(fs::exists(file_of("stage1")));
}

// Our shipped models/ (and any folder pinned by a MANIFEST.sha256) is never written to.
TEST_F(DownloadTest, RefusesAFolderHoldingAModelManifest) {
  write_file(out_ / "MANIFEST.sha256", "0000  stage1/v4_stage1.onnx\n");
  write_file(file_of("stage1"), "our own model");
  try {
    download_weights(options());
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find((out_ / "MANIFEST.sha256").string()), std::string::npos) << what;
    EXPECT_NE(what.find("--output"), std::string::npos) << what;
  }
  EXPECT_TRUE(server_.requests().empty());
  EXPECT_EQ(read_file(file_of("stage1")), "our own model");
  EXPECT_FALSE(fs::exists(part_of("stage1")));
}

TEST(DownloadOptionsTest, DefaultsToAFolderOfItsOwn) {
  EXPECT_EQ(DownloadOptions{}.output_dir, fs::path("models-published"));
  // The repository's shipped models/ holds a manifest: refused before any request (the
  // endpoint is a closed local port, so even a regression could not fetch anything).
  DownloadOptions o;
  o.output_dir = test::source_dir() / "models";
  o.endpoint = "http://127.0.0.1:9";
  ASSERT_TRUE(fs::exists(o.output_dir / "MANIFEST.sha256"));
  EXPECT_THROW(download_weights(o), std::invalid_argument);
}

TEST(DownloadOptionsTest, HubNamesAreTheFlatFileNames) {
  EXPECT_EQ(hub_file_name("stage0/v4_stage0_profile.onnx"), "v4_stage0_profile.onnx");
  EXPECT_EQ(hub_file_name("stage1/v4_stage1.onnx"), "v4_stage1.onnx");
}

TEST(DownloadOptionsTest, BuildsHubUrls) {
  DownloadOptions o;
  EXPECT_EQ(weights_url(o, "v4_stage1.onnx"),
            "https://huggingface.co/CephTrace/cephtrace-v4/resolve/main/v4_stage1.onnx");
  o.endpoint = "http://mirror.local/";
  o.revision = "refs/pr/1";
  EXPECT_EQ(weights_url(o, "phase0e_model.onnx"),
            "http://mirror.local/CephTrace/cephtrace-v4/resolve/refs%2Fpr%2F1/"
            "phase0e_model.onnx");
}

TEST(DownloadOptionsTest, ReadsTheHubEnvironment) {
  ::setenv("HF_ENDPOINT", "http://127.0.0.1:9", 1);
  ::setenv("HF_TOKEN", "hf_abc", 1);
  const auto o = download_options_from_environment();
  ::unsetenv("HF_ENDPOINT");
  ::unsetenv("HF_TOKEN");
  EXPECT_EQ(o.endpoint, "http://127.0.0.1:9");
  EXPECT_EQ(o.token, "hf_abc");
  const auto d = download_options_from_environment();
  EXPECT_EQ(d.endpoint, "https://huggingface.co");
  EXPECT_EQ(d.token, "");
}

TEST(DownloadOptionsTest, ExpectedSizesComeFromTheContractUnlessOverridden) {
  DownloadOptions o;
  EXPECT_EQ(expected_size_bytes(o, "stage1"), 123'930'000u);
  EXPECT_EQ(expected_size_bytes(o, "derive"), 430'000u);
  o.expected_sizes["derive"] = 7;
  EXPECT_EQ(expected_size_bytes(o, "derive"), 7u);
}

TEST(Sha256Test, MatchesKnownDigests) {
  EXPECT_EQ(detail::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(detail::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(detail::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  detail::Sha256 million;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) million.update(chunk);
  EXPECT_EQ(million.hex_digest(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, HashesFiles) {
  const auto file = test::temp_dir() / "data.bin";
  write_file(file, "abc");
  EXPECT_EQ(detail::sha256_file_hex(file),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_THROW(detail::sha256_file_hex(file.string() + ".missing"), std::runtime_error);
}

}  // namespace
}  // namespace cephtrace
