// `cephtrace evaluate`: the clinical-measure table in the Markdown and JSON reports; --jobs.
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "test_support.hpp"

namespace cephtrace {
namespace {

namespace fs = std::filesystem;

TEST(EvaluateCli, MeasuresAddTheClinicalMeasureTable) {
  const auto dir = test::temp_dir();
  fs::create_directories(dir / "gt");
  // S–N horizontal, A straight below N: SNA 90° in truth. The prediction moves A 100 px
  // forward at 400 px below N: SNA 90° + atan(100 / 400) = 104.04°, an error of 14.04°.
  std::ofstream(dir / "gt" / "7.json")
      << R"({"S": [300, 800], "N": [1000, 800], "A": [1000, 1200], "_pixel_spacing_mm": 0.1})";
  std::ofstream(dir / "pred.json")
      << R"({"source": "images/7.jpg", "landmarks": [{"name": "S", "x": 300, "y": 800},)"
         R"( {"name": "N", "x": 1000, "y": 800}, {"name": "A", "x": 1100, "y": 1200}]})";
  const auto run = test::run_cephtrace("evaluate --quiet --measures --gt-dir '" + (dir / "gt").string() +
                                       "' --predictions '" + (dir / "pred.json").string() + "' --output '" +
                                       (dir / "report.json").string() + "' --markdown '" +
                                       (dir / "report.md").string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string md = test::read_text(dir / "report.md");
  EXPECT_NE(md.find("| Steiner | SNA | deg | 1 | 14.04 |"), std::string::npos) << md;
  const auto j = nlohmann::json::parse(test::read_text(dir / "report.json"));
  ASSERT_TRUE(j.contains("measures"));
  EXPECT_EQ(j["measures"][0]["key"], "SNA");
  EXPECT_NEAR(j["measures"][0]["mean_abs_error"].get<double>(), 14.036, 1e-3);
  // 90° and 104° are both above 82 ± 2°: the same reading, "prognathic maxilla".
  EXPECT_EQ(j["measures"][0]["same_interpretation"], 1);
}

// Extended landmarks are scored like the others; --landmarks restricts the set.
TEST(EvaluateCli, ExtendedLandmarksAreScoredAndLandmarksRestricts) {
  const auto dir = test::temp_dir();
  fs::create_directories(dir / "gt");
  std::ofstream(dir / "gt" / "7.json")
      << R"({"S": [300, 800], "N": [1000, 800], "U6": [700, 1500], "_pixel_spacing_mm": 0.1})";
  // S exact, N 10 px off (1 mm), U6 30 px off (3 mm).
  std::ofstream(dir / "pred.json")
      << R"({"source": "images/7.jpg", "landmarks": [{"name": "S", "x": 300, "y": 800},)"
         R"( {"name": "N", "x": 1010, "y": 800}, {"name": "U6", "x": 730, "y": 1500}]})";
  const auto evaluate = [&](const std::string& extra) {
    const auto run = test::run_cephtrace("evaluate --quiet --bootstrap 0 --gt-dir '" + (dir / "gt").string() +
                                         "' --predictions '" + (dir / "pred.json").string() + "' --output '" +
                                         (dir / "report.json").string() + "'" + extra);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return nlohmann::json::parse(test::read_text(dir / "report.json"));
  };
  auto j = evaluate("");
  EXPECT_EQ(j["overall"]["n"], 3);
  EXPECT_NEAR(j["overall"]["mre_mm"].get<double>(), 4.0 / 3, 1e-9);
  j = evaluate(" --landmarks S,N");
  EXPECT_EQ(j["overall"]["n"], 2);
  EXPECT_NEAR(j["overall"]["mre_mm"].get<double>(), 0.5, 1e-9);
}

// evaluate --image-dir --jobs 2: the same predictions and report as one image at a time.
TEST(EvaluateCli, JobsGiveTheSamePredictions) {
  const auto dir = test::temp_dir();
  fs::create_directories(dir / "images");
  fs::create_directories(dir / "gt");
  for (int i = 1; i <= 3; ++i) {
    cv::imwrite((dir / "images" / (std::to_string(i) + ".png")).string(),
                test::synthetic_cephalogram({300 + 20 * i, 380}));
    std::ofstream(dir / "gt" / (std::to_string(i) + ".json"))
        << R"({"S": [100, 120], "N": [200, 110], "_pixel_spacing_mm": 0.1})";
  }
  auto run = [&](const std::string& jobs) {
    const fs::path saved = dir / ("pred" + jobs + ".json");
    const auto r = test::run_cephtrace("evaluate --quiet --bootstrap 0 --threads 1 --no-framing --jobs " + jobs +
                                       " --model-dir '" + test::fixture_models_dir().string() +
                                       "' --image-dir '" + (dir / "images").string() + "' --gt-dir '" +
                                       (dir / "gt").string() + "' --save-predictions '" + saved.string() + "'");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(test::read_text(saved));
  };
  const auto one = run("1"), two = run("2");
  ASSERT_EQ(one.size(), 3u);
  for (const auto& [image, result] : one.items()) {
    ASSERT_TRUE(two.contains(image)) << image;
    EXPECT_EQ(two[image]["landmarks"], result["landmarks"]) << image;
  }
}

}  // namespace
}  // namespace cephtrace
