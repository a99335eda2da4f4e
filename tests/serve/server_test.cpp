// `cephtrace serve` against a real server on a 127.0.0.1 port: every endpoint, every error
// code, DICOM, the token, the queue limit, the time limit and a concurrent load. The tiny
// fixture models keep it fast; answers are compared with the library called directly.
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cephtrace/analysis.hpp"
#include "cephtrace/predictor.hpp"
#include "cephtrace/serve.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string encode(const cv::Mat& bgr, const std::string& ext) {
  std::vector<uchar> bytes;
  EXPECT_TRUE(cv::imencode(ext, bgr, bytes));
  return {bytes.begin(), bytes.end()};
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ServeOptions fixture_options() {
  ServeOptions o;
  o.port = 0;
  o.workers = 2;
  o.queue = 16;
  o.max_upload_bytes = 2u << 20;
  o.predictor.model_dir = test::fixture_models_dir();
  o.predictor.threads = 1;
  o.web_dir = test::source_dir() / "web";
  return o;
}

// A server on its own thread for the life of the object.
class RunningServer {
 public:
  explicit RunningServer(ServeOptions o) : server_(std::move(o)) {
    port_ = server_.bind();
    thread_ = std::thread([this] { server_.listen(); });
    // listen() has started once the server answers.
    for (int i = 0; i < 200; ++i) {
      if (client().Get("/v1/health")) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "server did not come up";
  }
  ~RunningServer() {
    server_.stop();
    thread_.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60);
    return c;
  }
  int port() const { return port_; }

 private:
  ApiServer server_;
  int port_ = 0;
  std::thread thread_;
};

json error_of(const httplib::Result& r) {
  const auto j = json::parse(r->body);
  EXPECT_TRUE(j["error"]["code"].is_string()) << r->body;
  EXPECT_TRUE(j["error"]["message"].is_string()) << r->body;
  return j["error"];
}

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new RunningServer(fixture_options());
    image_ = test::synthetic_cephalogram({400, 480});
    png_ = encode(image_, ".png");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  // What the library itself says about the same bytes, with the server's options.
  static json direct_prediction(const std::string& bytes) {
    PredictorOptions o;
    o.model_dir = test::fixture_models_dir();
    o.threads = 1;
    Predictor p(o);
    const auto r = p.predict(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    return json::parse(to_json(r).dump());
  }
  static RunningServer* server_;
  static cv::Mat image_;
  static std::string png_;
};
RunningServer* Serve::server_ = nullptr;
cv::Mat Serve::image_;
std::string Serve::png_;

void expect_same_landmarks(const json& a, const json& b, double tolerance = 1e-9) {
  ASSERT_EQ(a["landmarks"].size(), 25u);
  ASSERT_EQ(b["landmarks"].size(), 25u);
  for (size_t i = 0; i < 25; ++i) {
    EXPECT_EQ(a["landmarks"][i]["name"], b["landmarks"][i]["name"]);
    EXPECT_NEAR(a["landmarks"][i]["x"].get<double>(), b["landmarks"][i]["x"].get<double>(), tolerance) << i;
    EXPECT_NEAR(a["landmarks"][i]["y"].get<double>(), b["landmarks"][i]["y"].get<double>(), tolerance) << i;
  }
}

TEST_F(Serve, HealthReportsWorkersAndQueue) {
  const auto r = server_->client().Get("/v1/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const auto j = json::parse(r->body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["workers"], 2);
  EXPECT_EQ(j["queue"]["capacity"], 16);
  EXPECT_EQ(j["degraded"], false);
  EXPECT_EQ(j["token_required"], false);
}

TEST_F(Serve, ModelsListsFilesWithSizeAndSha256) {
  const auto r = server_->client().Get("/v1/models");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const auto j = json::parse(r->body);
  std::set<std::string> names;
  for (const auto& m : j["models"]) {
    names.insert(m["name"]);
    const fs::path file = test::fixture_models_dir() / m["file"].get<std::string>();
    EXPECT_EQ(m["size_bytes"].get<uintmax_t>(), fs::file_size(file)) << file;
    EXPECT_EQ(m["loaded"], true) << file;
    // Cross-check the hash with coreutils, not with our own implementation.
    std::string expected(64, '\0');
    FILE* p = ::popen(("sha256sum '" + file.string() + "'").c_str(), "r");
    ASSERT_TRUE(p);
    ASSERT_EQ(std::fread(expected.data(), 1, 64, p), 64u);
    ::pclose(p);
    EXPECT_EQ(m["sha256"], expected) << file;
  }
  for (const char* key : {"profile", "zone1", "zone2", "zone3", "zone4", "derive", "stage1"})
    EXPECT_TRUE(names.count(key)) << key;
}

TEST_F(Serve, PredictRawBodyMatchesTheLibrary) {
  const auto r = server_->client().Post("/v1/predict", png_, "image/png");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const auto j = json::parse(r->body);
  EXPECT_EQ(j["original_width"], 400);
  EXPECT_EQ(j["original_height"], 480);
  EXPECT_FALSE(j.contains("analysis"));
  expect_same_landmarks(j, direct_prediction(png_));
}

TEST_F(Serve, PredictReadsBmpAndTiffLikePng) {
  const json expected = direct_prediction(png_);
  for (const char* ext : {".bmp", ".tiff"}) {
    const auto r = server_->client().Post("/v1/predict", encode(image_, ext), "application/octet-stream");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << ext << ": " << r->body;
    expect_same_landmarks(json::parse(r->body), expected);  // lossless: the same pixels
  }
}

TEST_F(Serve, PredictMultipartWithOptions) {
  const std::string jpeg = encode(image_, ".jpg");
  httplib::MultipartFormDataItems form = {{"image", jpeg, "ceph.jpg", "image/jpeg"},
                                          {"pixel_spacing_mm", "0.1", "", ""},
                                          {"analyze", "true", "", ""}};
  const auto r = server_->client().Post("/v1/predict?decoder=dark", form);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto j = json::parse(r->body);
  EXPECT_EQ(j["source"], "ceph.jpg");
  EXPECT_DOUBLE_EQ(j["pixel_spacing_mm"].get<double>(), 0.1);
  EXPECT_EQ(j["decoder"], "dark");
  ASSERT_TRUE(j.contains("analysis"));
  EXPECT_EQ(j["analysis"]["length_unit"], "mm");
}

TEST_F(Serve, PredictOptionsChangeThePipeline) {
  const auto left = server_->client().Post("/v1/predict?orientation=left&refine_passes=0", png_, "image/png");
  const auto right = server_->client().Post("/v1/predict?orientation=right", png_, "image/png");
  ASSERT_TRUE(left && right);
  ASSERT_EQ(left->status, 200) << left->body;
  ASSERT_EQ(right->status, 200) << right->body;
  EXPECT_EQ(json::parse(left->body)["orientation"], "left");
  EXPECT_EQ(json::parse(right->body)["orientation"], "right");
  EXPECT_EQ(json::parse(right->body)["orientation_method"], "given");
}

TEST_F(Serve, PredictDicomCarriesItsPixelSpacing) {
  if (std::system("command -v img2dcm > /dev/null && command -v dcmodify > /dev/null") != 0)
    GTEST_SKIP() << "DCMTK tools img2dcm/dcmodify not installed; skipping the DICOM upload";
  const auto dir = test::temp_dir();
  const auto jpeg = dir / "ceph.jpg", dcm = dir / "ceph.dcm";
  ASSERT_TRUE(cv::imwrite(jpeg.string(), image_));
  ASSERT_EQ(std::system(("img2dcm -i JPEG '" + jpeg.string() + "' '" + dcm.string() + "'").c_str()), 0);
  ASSERT_EQ(std::system(("dcmodify -nb -i \"(0028,0030)=0.1\\\\0.1\" '" + dcm.string() + "'").c_str()), 0);
  const auto r = server_->client().Post("/v1/predict", slurp(dcm), "application/dicom");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto j = json::parse(r->body);
  EXPECT_DOUBLE_EQ(j["pixel_spacing_mm"].get<double>(), 0.1);
  // The DICOM holds the same JPEG stream; decoders may round a grey level differently.
  expect_same_landmarks(j, direct_prediction(slurp(jpeg)), 2.0);

  const auto png = server_->client().Post("/v1/decode", slurp(dcm), "application/dicom");
  ASSERT_TRUE(png);
  ASSERT_EQ(png->status, 200) << png->body;
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(std::stod(png->get_header_value("X-Pixel-Spacing-Mm")), 0.1);
  const cv::Mat decoded = cv::imdecode(std::vector<uchar>(png->body.begin(), png->body.end()), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(decoded.size(), image_.size());
}

TEST_F(Serve, AnalyzeMatchesTheLibrary) {
  const auto predicted = server_->client().Post("/v1/predict", png_, "image/png");
  ASSERT_TRUE(predicted);
  ASSERT_EQ(predicted->status, 200);
  const auto r = server_->client().Post("/v1/analyze?pixel_spacing_mm=0.1&allow_low_confidence=1",
                                        predicted->body, "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  AnalysisOptions o;
  o.pixel_spacing_mm = 0.1;
  o.allow_low_confidence = true;
  const auto expected = json::parse(to_json(analyze(landmarks_from_json(json::parse(predicted->body)), o)).dump());
  EXPECT_EQ(json::parse(r->body), expected);
  EXPECT_EQ(expected["length_unit"], "mm");
}

TEST_F(Serve, AnalyzeFollowsAMovedPoint) {
  // A canonical ground-truth object with A moved forward: SNA must grow.
  json gt = {{"S", {800, 700}}, {"N", {300, 650}}, {"A", {330, 1150}}, {"B", {360, 1500}}};
  auto sna = [&](const json& body) {
    const auto r = server_->client().Post("/v1/analyze", body.dump(), "application/json");
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body)["measurements"]["SNA"]["value"].get<double>();
  };
  const double before = sna(gt);
  gt["A"] = {300, 1150};
  EXPECT_GT(sna(gt), before + 1.0);
}

TEST_F(Serve, AnalyzeReportsTheChosenAnalysesAndTheExtendedLandmarks) {
  // Molars and incisors make the occlusal plane: Wits is computed from extended landmarks.
  const json gt = {{"S", {800, 700}},    {"N", {300, 650}},      {"A", {330, 1150}},
                   {"B", {360, 1500}},   {"U6", {620, 1300}},    {"L6", {620, 1320}},
                   {"U1_tip", {320, 1310}}, {"L1_tip", {322, 1318}}, {"_pixel_spacing_mm", 0.1}};
  auto r = server_->client().Post("/v1/analyze?analyses=wits,steiner", gt.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto j = json::parse(r->body);
  EXPECT_TRUE(j["measurements"].contains("Wits"));
  EXPECT_TRUE(j["measurements"].contains("SNA"));
  EXPECT_FALSE(j["measurements"].contains("facial_angle"));  // Downs was not asked for
  r = server_->client().Post("/v1/analyze?analyses=steiner,sassouni", gt.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(error_of(r)["message"].get<std::string>().find("sassouni"), std::string::npos);
}

TEST_F(Serve, OverlayIsAPngOfTheImageSize) {
  const auto r = server_->client().Post("/v1/overlay?analyze=1", png_, "image/png");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "image/png");
  const cv::Mat png = cv::imdecode(std::vector<uchar>(r->body.begin(), r->body.end()), cv::IMREAD_COLOR);
  ASSERT_FALSE(png.empty());
  EXPECT_EQ(png.size(), image_.size());
  EXPECT_GT(cv::norm(png, image_, cv::NORM_L1), 0.0);  // something was drawn
}

TEST_F(Serve, OverlayDrawsGivenLandmarks) {
  const json landmarks = {{"S", {100, 100}}};
  httplib::MultipartFormDataItems form = {{"image", png_, "ceph.png", "image/png"},
                                          {"landmarks", landmarks.dump(), "", ""}};
  const auto r = server_->client().Post("/v1/overlay", form);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const cv::Mat png = cv::imdecode(std::vector<uchar>(r->body.begin(), r->body.end()), cv::IMREAD_COLOR);
  ASSERT_EQ(png.size(), image_.size());
  cv::Mat diff;
  cv::absdiff(png, image_, diff);
  // Only S was drawn: the change is around (100, 100) and nowhere far from it.
  EXPECT_GT(cv::sum(diff(cv::Rect(90, 90, 20, 20)))[1], 0.0);
  EXPECT_EQ(cv::sum(diff(cv::Rect(250, 250, 150, 230)))[1], 0.0);
}

TEST_F(Serve, OpenApiMatchesTheRoutes) {
  const auto r = server_->client().Get("/openapi.json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const auto doc = json::parse(r->body);
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  std::set<std::string> served, documented;
  for (const auto& route : ApiServer::routes()) {
    std::string method = route.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    served.insert(method + " " + route.path);
  }
  for (const auto& [path, ops] : doc["paths"].items())
    for (const auto& [method, op] : ops.items()) documented.insert(method + " " + path);
  EXPECT_EQ(served, documented);
  // The codes the tests below see are documented where they happen.
  for (const char* code : {"200", "400", "401", "413", "415", "503", "504"})
    EXPECT_TRUE(doc["paths"]["/v1/predict"]["post"]["responses"].contains(code)) << code;
  for (const char* code : {"200", "400", "415"})
    EXPECT_TRUE(doc["paths"]["/v1/analyze"]["post"]["responses"].contains(code)) << code;
  // Every route answers (none is documented but missing).
  for (const auto& route : ApiServer::routes()) {
    auto c = server_->client();
    const auto res = route.method == "GET" ? c.Get(route.path) : c.Post(route.path, "", "text/plain");
    ASSERT_TRUE(res) << route.path;
    // open-image answers 404 without --open, but with its own message, not "no such resource".
    if (res->status == 404) {
      EXPECT_EQ(error_of(res)["message"].get<std::string>().find("no such"), std::string::npos);
    }
  }
}

TEST_F(Serve, ErrorsAreJsonWithTheRightStatus) {
  auto c = server_->client();
  // 415: not an image.
  auto r = c.Post("/v1/predict", "hello, this is text", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415);
  EXPECT_EQ(error_of(r)["code"], "unsupported_media_type");
  // 400: a PNG signature followed by garbage.
  r = c.Post("/v1/predict", std::string("\x89PNG\r\n\x1A\n", 8) + std::string(300, 'x'), "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_of(r)["code"], "bad_image");
  // 400: empty body.
  r = c.Post("/v1/predict", "", "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  // 400: a bad option.
  r = c.Post("/v1/predict?decoder=magic", png_, "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(error_of(r)["message"].get<std::string>().find("decoder"), std::string::npos);
  r = c.Post("/v1/predict?pixel_spacing_mm=-1", png_, "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  // 400: multipart without the image part.
  r = c.Post("/v1/predict", httplib::MultipartFormDataItems{{"file", png_, "x.png", "image/png"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  // 413: larger than --max-upload-mb (2 MiB here).
  r = c.Post("/v1/predict", std::string("\xFF\xD8\xFF", 3) + std::string(3u << 20, '\0'), "image/jpeg");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_of(r)["code"], "payload_too_large");
  // 415 / 400 for analyze.
  r = c.Post("/v1/analyze", "S=1,2", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415);
  error_of(r);
  r = c.Post("/v1/analyze", "{not json", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  error_of(r);
  r = c.Post("/v1/analyze", std::string(200000, '['), "application/json");  // nesting bomb
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  error_of(r);
  r = c.Post("/v1/analyze", R"({"landmarks": [{"name": "Nope", "x": 1, "y": 2}]})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  error_of(r);
  // 404: unknown route.
  r = c.Get("/v1/nothing-here");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(error_of(r)["code"], "not_found");
  // None of that hurt the server.
  r = c.Post("/v1/predict", png_, "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(Serve, ServesTheViewer) {
  const auto r = server_->client().Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("<html"), std::string::npos);
}

TEST(ServeToken, EveryApiCallNeedsTheBearerToken) {
  auto o = fixture_options();
  o.token = "s3cret-token";
  RunningServer server(o);
  auto c = server.client();
  auto r = c.Get("/v1/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(error_of(r)["code"], "unauthorized");
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  for (const auto& route : ApiServer::routes()) {
    auto res = route.method == "GET" ? c.Get(route.path) : c.Post(route.path, "x", "text/plain");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << route.path;
  }
  c.set_bearer_token_auth("wrong-token!");
  r = c.Get("/v1/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  c.set_bearer_token_auth("s3cret-token");
  r = c.Get("/v1/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["token_required"], true);
  // The viewer's static files hold no data and load without it (it asks for the token).
  httplib::Client anonymous("127.0.0.1", server.port());
  r = anonymous.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(ServeToken, NonLoopbackNeedsAToken) {
  auto o = fixture_options();
  o.host = "0.0.0.0";
  EXPECT_THROW(ApiServer server(o), std::invalid_argument);
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("192.168.1.10"));
}

// Many simultaneous requests on one worker with one queue slot: the surplus is refused with
// 503 + Retry-After at once, everything accepted is answered correctly.
TEST(ServeQueue, AFullQueueAnswers503WithRetryAfter) {
  auto o = fixture_options();
  o.workers = 1;
  o.queue = 1;
  o.max_upload_bytes = 64u << 20;
  RunningServer server(o);
  // A larger image keeps the worker busy long enough for the others to pile up.
  const std::string png = encode(test::synthetic_cephalogram({1600, 1900}), ".png");
  constexpr int kClients = 10;
  std::vector<int> status(kClients, 0);
  std::vector<std::string> retry_after(kClients), body(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      auto c = server.client();
      if (auto r = c.Post("/v1/predict", png, "image/png")) {
        status[i] = r->status;
        retry_after[i] = r->get_header_value("Retry-After");
        body[i] = r->body;
      }
    });
  for (auto& t : clients) t.join();
  int ok = 0, busy = 0;
  for (int i = 0; i < kClients; ++i) {
    if (status[i] == 200) {
      ++ok;
      EXPECT_EQ(json::parse(body[i])["landmarks"].size(), 25u);
    } else {
      ASSERT_EQ(status[i], 503) << body[i];
      ++busy;
      EXPECT_EQ(json::parse(body[i])["error"]["code"], "queue_full");
      EXPECT_GE(std::stoi(retry_after[i]), 1);
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
  const auto health = server.client().Get("/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST(ServeQueue, ARequestOverItsTimeLimitGets504) {
  auto o = fixture_options();
  o.request_timeout = std::chrono::milliseconds(1);
  o.max_upload_bytes = 64u << 20;
  RunningServer server(o);
  const std::string png = encode(test::synthetic_cephalogram({1600, 1900}), ".png");
  const auto r = server.client().Post("/v1/predict", png, "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "timeout");
  const auto health = server.client().Get("/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return -1;
}

// 8 clients x 20 requests: every answer right, and memory does not grow with the requests.
// Stage 1 only and a given facing direction keep each prediction short (fixture Stage 0
// spends over a second on synthetic images); the HTTP and queue paths are the same.
TEST(ServeLoad, EightClientsTwentyRequestsEach) {
  auto o = fixture_options();
  o.workers = 2;
  o.queue = 8;  // 8 clients never exceed workers + queue: no 503 expected
  o.predictor.model_dir = test::fixture_models_dir("models_no_stage0");
  o.predictor.orientation = Orientation::FacingLeft;
  RunningServer server(o);
  std::vector<std::string> images;
  std::vector<json> expected;
  {
    PredictorOptions po = o.predictor;
    Predictor p(po);
    for (int i = 0; i < 4; ++i) {
      images.push_back(encode(test::synthetic_cephalogram({360 + 40 * i, 440}, i % 2 == 0), ".png"));
      const auto& b = images.back();
      expected.push_back(json::parse(to_json(p.predict(std::span(reinterpret_cast<const uint8_t*>(b.data()), b.size()))).dump()));
    }
  }
  auto round = [&](int clients, int requests) {
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([&, c] {
        auto client = server.client();
        for (int i = 0; i < requests; ++i) {
          const size_t k = (c + i) % images.size();
          const auto r = client.Post("/v1/predict", images[k], "image/png");
          if (!r || r->status != 200) {
            ++wrong;
            continue;
          }
          const auto j = json::parse(r->body);
          for (size_t l = 0; l < 25; ++l)
            if (j["landmarks"][l]["x"] != expected[k]["landmarks"][l]["x"] ||
                j["landmarks"][l]["y"] != expected[k]["landmarks"][l]["y"]) {
              ++wrong;
              break;
            }
        }
      });
    for (auto& t : threads) t.join();
    return wrong.load();
  };
  EXPECT_EQ(round(8, 2), 0);  // warm-up: buffers, thread stacks
  const long warm = rss_kib();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(round(8, 20), 0);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long after = rss_kib();
  std::printf("[ serve load ] 160 requests in %.2f s (%.1f req/s, fixture models); RSS %ld -> %ld KiB\n",
              secs, 160 / secs, warm, after);
  EXPECT_LT(after - warm, 64 * 1024) << "RSS grew by " << (after - warm) << " KiB over 160 requests";
}

}  // namespace
}  // namespace cephtrace
