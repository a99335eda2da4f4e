// Reading landmark sets from predict results, predict batches and ground-truth files.
#include <fstream>

#include "cephtrace/analysis.hpp"
#include "cephtrace/evaluate.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

using nlohmann::json;

// A predict result (spec §6 shape) with every landmark at (10·i, 20·i).
json predict_result() {
  json lms = json::array();
  for (int i = 0; i < kNumLandmarks; ++i)
    lms.push_back({{"index", i},
                   {"name", canonical_landmarks()[i].name},
                   {"x", 10.0 * i},
                   {"y", 20.0 * i},
                   {"peak", 0.9},
                   {"confidence_score", 0.9},
                   {"confidence", "high"},
                   {"tier", "high"}});
  return {{"original_width", 1935}, {"original_height", 2400},     {"degraded", false},
          {"landmarks", lms},       {"pixel_spacing_mm", nullptr}, {"orientation", "right"}};
}

std::string error_of(const json& j) {
  try {
    landmark_sets_from_json(j);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(LandmarkSetJson, PredictResult) {
  auto j = predict_result();
  j["landmarks"][lm::B]["confidence"] = "low";
  j["pixel_spacing_mm"] = 0.1;
  const auto set = landmarks_from_json(j);
  ASSERT_TRUE(set.points[lm::Pog].has_value());
  EXPECT_EQ(*set.points[lm::Pog], cv::Point2d(10.0 * lm::Pog, 20.0 * lm::Pog));
  EXPECT_TRUE(set.low_confidence[lm::B]);
  EXPECT_FALSE(set.low_confidence[lm::A]);
  EXPECT_EQ(set.pixel_spacing_mm, 0.1);
  EXPECT_EQ(set.orientation, Orientation::FacingRight);
}

TEST(LandmarkSetJson, PredictResultWithUnavailableLandmark) {
  auto j = predict_result();
  j["landmarks"][lm::Co]["available"] = false;
  j["landmarks"][lm::Ba]["x"] = nullptr;
  const auto set = landmarks_from_json(j);
  EXPECT_FALSE(set.points[lm::Co].has_value());
  EXPECT_FALSE(set.points[lm::Ba].has_value());
  EXPECT_FALSE(set.pixel_spacing_mm.has_value());
}

TEST(LandmarkSetJson, GroundTruthForms) {
  const json gt = {{"S", {100, 200}},         {"N", {{"x", 300.5}, {"y", 210}}}, {"Pm", nullptr},
                   {"columella", {500, 500}},  // a source's extra landmark: ignored
                   {"_source", "test"},       {"_pixel_spacing_mm", 0.1}};
  const auto sets = landmark_sets_from_json(gt);
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].first, "");
  const auto& set = sets[0].second;
  EXPECT_EQ(*set.points[lm::S], cv::Point2d(100, 200));
  EXPECT_EQ(*set.points[lm::N], cv::Point2d(300.5, 210));
  EXPECT_FALSE(set.points[lm::Pm].has_value());
  EXPECT_FALSE(set.points[lm::A].has_value());
  EXPECT_EQ(set.pixel_spacing_mm, 0.1);
  EXPECT_FALSE(set.orientation.has_value());
}

TEST(LandmarkSetJson, PredictBatch) {
  auto second = predict_result();
  second["landmarks"][0]["x"] = 5.0;
  const json batch = {{"a/001.png", predict_result()}, {"a/002.png", second}};
  const auto sets = landmark_sets_from_json(batch);
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].first, "a/001.png");
  EXPECT_EQ(sets[1].first, "a/002.png");
  EXPECT_EQ(sets[1].second.points[lm::S]->x, 5.0);
}

TEST(LandmarkSetJson, ErrorsNameTheProblem) {
  EXPECT_NE(error_of(json::array()).find("expected a JSON object"), std::string::npos);
  EXPECT_NE(error_of({{"foo", 1}}).find("no landmarks found"), std::string::npos);
  EXPECT_NE(error_of({{"S", "left of N"}}).find("landmark 'S'"), std::string::npos);
  EXPECT_NE(error_of({{"S", {1, 2}}, {"_pixel_spacing_mm", -0.1}}).find("_pixel_spacing_mm"),
            std::string::npos);
  auto bad_name = predict_result();
  bad_name["landmarks"][3]["name"] = "Xi";
  EXPECT_NE(error_of(bad_name).find("landmarks[3]: unknown landmark name 'Xi'"), std::string::npos);
  auto bad_coord = predict_result();
  bad_coord["landmarks"][1]["y"] = "n/a";
  EXPECT_NE(error_of(bad_coord).find("landmarks[1] (N)"), std::string::npos);
  auto batch_entry = predict_result();
  batch_entry["landmarks"] = "none";
  EXPECT_NE(error_of({{"x.png", predict_result()}, {"y.png", batch_entry}}).find("entry 'y.png'"),
            std::string::npos);
}

TEST(LandmarkSetJson, FileErrorsNameTheFile) {
  const auto dir = test::temp_dir();
  const auto missing = dir / "nope.json";
  try {
    load_landmark_sets(missing);
    FAIL() << "no error for a missing file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos);
  }
  const auto broken = dir / "broken.json";
  std::ofstream(broken) << "{\"S\": [1, 2";
  try {
    load_landmark_sets(broken);
    FAIL() << "no error for broken JSON";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(broken.string() + ": not valid JSON"), std::string::npos);
  }
  const auto good = dir / "good.json";
  std::ofstream(good) << R"({"S": [1, 2], "N": [3, 4]})";
  EXPECT_EQ(load_landmark_sets(good).size(), 1u);
}

// The analyses read ground truth with the evaluation's reader: the same aliases, the same checks.
TEST(LandmarkSetJson, GroundTruthIsReadAsEvaluateReadsIt) {
  const auto set = landmarks_from_json({{"sella", {100, 200}}, {"N", {300, 210}}});
  EXPECT_EQ(*set.points[lm::S], cv::Point2d(100, 200));
  EXPECT_NE(error_of({{"S", {-5, 2}}}).find("negative coordinate"), std::string::npos);
  EXPECT_NE(error_of({{"S", {1, 2}}, {"sella", {1, 2}}}).find("both give landmark S"), std::string::npos);
  EXPECT_NE(error_of({{"S", {900, 2}}, {"_image_size", {800, 600}}}).find("outside the 800x600 image"),
            std::string::npos);
}

// And predict results with the evaluation's: an entry by index alone is accepted by both.
TEST(LandmarkSetJson, PredictResultIsReadAsEvaluateReadsIt) {
  const json r = {{"source", "x/7.png"}, {"landmarks", {{{"index", lm::N}, {"x", 3}, {"y", 4}}}}};
  EXPECT_EQ(*landmarks_from_json(r).points[lm::N], cv::Point2d(3, 4));
  const auto p = predictions_from_json(r, "r.json");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].stem(), "7");
  ASSERT_EQ(p[0].landmarks.size(), 1u);
  EXPECT_EQ(p[0].landmarks[0].name, "N");
  auto bad = r;
  bad["pixel_spacing_mm"] = "0.1";
  EXPECT_NE(error_of(bad).find("pixel_spacing_mm must be a number"), std::string::npos);
  EXPECT_THROW(predictions_from_json(bad, "r.json"), GroundTruthError);
}

TEST(LandmarkSetJson, FromPredictionResult) {
  PredictionResult r;
  r.orientation = Orientation::FacingLeft;
  r.pixel_spacing_mm = 0.125;
  LandmarkPrediction p;
  p.index = lm::Gn;
  p.x = 7;
  p.y = 8;
  p.confidence = "low";
  r.landmarks.push_back(p);
  const auto set = landmarks_from_result(r);
  EXPECT_EQ(*set.points[lm::Gn], cv::Point2d(7, 8));
  EXPECT_TRUE(set.low_confidence[lm::Gn]);
  EXPECT_FALSE(set.points[lm::S].has_value());
  EXPECT_EQ(set.pixel_spacing_mm, 0.125);
  EXPECT_EQ(set.orientation, Orientation::FacingLeft);
}

}  // namespace
}  // namespace cephtrace
