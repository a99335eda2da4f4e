#include "test_support.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

namespace cephtrace::test {

std::filesystem::path source_dir() { return CEPHTRACE_SOURCE_DIR; }
std::filesystem::path binary_dir() { return CEPHTRACE_BINARY_DIR; }

std::filesystem::path fixture_models_dir(const std::string& variant) {
  return binary_dir() / "fixtures" / variant;
}

std::optional<std::filesystem::path> shipped_models_dir() {
  const auto dir = source_dir() / "models";
  for (const char* f : {"stage0/v4_stage0_profile.onnx", "stage0/z1_cranial_base_contours.onnx",
                        "stage0/z2_midface_contours.onnx", "stage0/z3_mandible_contours.onnx",
                        "stage0/z4_posterior_contours.onnx", "stage0/phase0e_model.onnx",
                        "stage1/v4_stage1.onnx"})
    if (!std::filesystem::exists(dir / f)) return std::nullopt;
  return dir;
}

std::optional<std::filesystem::path> isbi_dir() {
  std::vector<std::filesystem::path> candidates;
  if (const char* env = std::getenv("CEPHTRACE_ISBI_DIR")) candidates.emplace_back(env);
  candidates.push_back(source_dir().parent_path() / "shared" / "data" / "isbi2015");
  for (const auto& c : candidates)
    if (std::filesystem::exists(c / "images" / "001.jpg")) return c;
  return std::nullopt;
}

cv::Mat synthetic_cephalogram(cv::Size size, bool facing_left) {
  cv::Mat grey(size, CV_8UC1, cv::Scalar(25));
  const double w = size.width, h = size.height;
  // Skull and face: an ellipse with a nose and chin bump on the anterior (left) side.
  cv::ellipse(grey, cv::Point2d(0.58 * w, 0.45 * h), cv::Size2d(0.36 * w, 0.4 * h), 0, 0, 360,
              cv::Scalar(150), cv::FILLED);
  cv::circle(grey, cv::Point2d(0.2 * w, 0.45 * h), static_cast<int>(0.06 * w), cv::Scalar(150),
             cv::FILLED);
  cv::circle(grey, cv::Point2d(0.3 * w, 0.8 * h), static_cast<int>(0.08 * w), cv::Scalar(150),
             cv::FILLED);
  // Bony structures: brighter inner ellipse and a "mandible".
  cv::ellipse(grey, cv::Point2d(0.62 * w, 0.35 * h), cv::Size2d(0.25 * w, 0.22 * h), 0, 0, 360,
              cv::Scalar(220), static_cast<int>(std::max(2.0, 0.01 * w)));
  cv::line(grey, cv::Point2d(0.65 * w, 0.7 * h), cv::Point2d(0.32 * w, 0.85 * h), cv::Scalar(230),
           static_cast<int>(std::max(2.0, 0.015 * w)));
  cv::Mat noise(size, CV_8UC1);
  cv::theRNG().state = 1234;  // deterministic noise
  cv::randu(noise, 0, 12);
  grey += noise;
  if (!facing_left) cv::flip(grey, grey, 1);
  cv::Mat bgr;
  cv::cvtColor(grey, bgr, cv::COLOR_GRAY2BGR);
  return bgr;
}

std::filesystem::path temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = "cephtrace_test";
  if (info) name += std::string("_") + info->test_suite_name() + "_" + info->name();
  auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CliRun run_cephtrace(const std::string& args) {
  // Unique per test: CTest runs a suite's tests in parallel.
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto stem = std::filesystem::temp_directory_path() /
                    (std::string("cephtrace_cli_") + info->test_suite_name() + "_" + info->name());
  const std::filesystem::path out = stem.string() + ".stdout", err = stem.string() + ".stderr";
  const std::string cmd = (binary_dir() / "bin" / "cephtrace").string() + " " + args + " > " +
                          out.string() + " 2> " + err.string();
  const int status = std::system(cmd.c_str());
  return {WEXITSTATUS(status), read_text(out), read_text(err)};
}

}  // namespace cephtrace::test
