// Scoring, scale selection, prediction files, id selection and reports.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "cephtrace/evaluate.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

GroundTruth gt(const std::string& stem, std::vector<NamedPoint> points, std::optional<double> spacing = {}) {
  GroundTruth g;
  g.stem = stem;
  g.landmarks = std::move(points);
  g.pixel_spacing_mm = spacing;
  return g;
}

PredictedImage pred(const std::string& key, std::vector<NamedPoint> points, std::optional<double> spacing = {}) {
  return {key, std::move(points), spacing};
}

const LandmarkReport& landmark(const EvaluationReport& r, const std::string& name) {
  for (const auto& l : r.landmarks)
    if (l.name == name) return l;
  throw std::runtime_error("no landmark " + name);
}

TEST(Evaluate, GlobalSpacingHandComputedErrors) {
  // Offsets (30, 40) px = 50 px and (0, 10) px = 10 px; at 0.1 mm/px: 5 mm and 1 mm.
  const std::vector<GroundTruth> truth{gt("151", {{"S", 100, 100}, {"N", 800, 100}}),
                                       gt("152", {{"S", 200, 200}, {"N", 900, 200}})};
  const std::vector<PredictedImage> preds{pred("images/151.jpg", {{"S", 130, 140}, {"N", 800, 110}}),
                                          pred("152.png", {{"S", 200, 200}, {"N", 900, 220}})};
  EvaluationOptions o;
  o.pixel_spacing_mm = 0.1;
  o.sdr_thresholds_mm = {1.0, 2.0};
  const auto r = evaluate(truth, preds, o);
  const auto& s = landmark(r, "S").stats;
  EXPECT_EQ(s.n, 2u);
  EXPECT_DOUBLE_EQ(s.mre, 2.5);  // (5 + 0) / 2
  const auto& n = landmark(r, "N").stats;
  EXPECT_DOUBLE_EQ(n.mre, 1.5);  // (1 + 2) / 2
  EXPECT_EQ(n.sdr, (std::vector<double>{0.5, 1.0}));  // 1 mm counts at the 1 mm threshold
  EXPECT_EQ(r.overall.n, 4u);
  EXPECT_DOUBLE_EQ(r.overall.mre, 2.0);  // (5 + 0 + 1 + 2) / 4
  EXPECT_EQ(r.overall.sdr, (std::vector<double>{0.5, 0.75}));
  ASSERT_EQ(r.images.size(), 2u);
  EXPECT_TRUE(r.images[0].scored);
  EXPECT_EQ(r.images[0].scale_source, ScaleSource::CommandLine);
  EXPECT_DOUBLE_EQ(r.images[0].mre_mm, 3.0);  // (5 + 1) / 2
  EXPECT_EQ(r.observations.size(), 4u);
  EXPECT_DOUBLE_EQ(r.observations[0].error_px, 50.0);
}

// The bias is the mean SIGNED offset per axis: opposite offsets cancel, a shared one stays.
TEST(Evaluate, BiasIsTheMeanSignedOffsetPerLandmark) {
  const std::vector<GroundTruth> truth{gt("1", {{"S", 100, 100}, {"N", 500, 100}}),
                                       gt("2", {{"S", 100, 100}, {"N", 500, 100}})};
  const std::vector<PredictedImage> preds{pred("1", {{"S", 130, 90}, {"N", 520, 100}}),
                                          pred("2", {{"S", 110, 110}, {"N", 480, 100}})};
  EvaluationOptions o;
  o.pixel_spacing_mm = 0.1;
  const auto r = evaluate(truth, preds, o);
  EXPECT_NEAR(landmark(r, "S").bias_x_mm, 2.0, 1e-12);  // (+3 mm + 1 mm) / 2
  EXPECT_NEAR(landmark(r, "S").bias_y_mm, 0.0, 1e-12);  // (−1 mm + 1 mm) / 2
  EXPECT_NEAR(landmark(r, "N").bias_x_mm, 0.0, 1e-12);  // ±2 mm cancel; the MRE does not
  EXPECT_DOUBLE_EQ(landmark(r, "N").stats.mre, 2.0);
  const auto j = to_json(r);
  EXPECT_NEAR(j["landmarks"][0]["bias_mm"]["x"].get<double>(), 2.0, 1e-12);
  EXPECT_NE(to_markdown(r).find("| 2.00, 0.00 |"), std::string::npos);
}

TEST(Evaluate, ReferenceScaleUsesSellaNasionOf71mm) {
  // |S−N| = 710 px → 0.1 mm/px; the S error of 20 px is 2 mm. Image 152 has no N: skipped.
  const std::vector<GroundTruth> truth{gt("151", {{"S", 0, 0}, {"N", 710, 0}}, 0.5),
                                       gt("152", {{"S", 0, 0}})};
  const std::vector<PredictedImage> preds{pred("151", {{"S", 0, 20}, {"N", 710, 0}}), pred("152", {{"S", 1, 1}})};
  EvaluationOptions o;
  o.scale_mode = ScaleMode::SellaNasion;  // ignores the recorded 0.5 mm/px
  const auto r = evaluate(truth, preds, o);
  EXPECT_DOUBLE_EQ(r.images[0].mm_per_px, 0.1);
  EXPECT_EQ(r.images[0].scale_source, ScaleSource::SellaNasion);
  EXPECT_DOUBLE_EQ(landmark(r, "S").stats.mre, 2.0);
  EXPECT_DOUBLE_EQ(r.overall.mre, 1.0);  // S 2 mm, N 0 mm
  EXPECT_FALSE(r.images[1].scored);
  EXPECT_NE(r.images[1].skip_reason.find("S or N"), std::string::npos);
}

TEST(Evaluate, ScalePriorityCommandLineThenGroundTruthThenPredictionThenSellaNasion) {
  const std::vector<GroundTruth> truth{gt("1", {{"S", 0, 0}, {"N", 710, 0}}, 0.2),
                                       gt("2", {{"S", 0, 0}, {"N", 710, 0}}),
                                       gt("3", {{"S", 0, 0}, {"N", 710, 0}})};
  const std::vector<PredictedImage> preds{pred("1", {{"S", 10, 0}}, 0.5), pred("2", {{"S", 10, 0}}, 0.5),
                                          pred("3", {{"S", 10, 0}})};
  auto r = evaluate(truth, preds);
  EXPECT_EQ(r.images[0].scale_source, ScaleSource::GroundTruth);
  EXPECT_DOUBLE_EQ(r.images[0].mm_per_px, 0.2);
  EXPECT_EQ(r.images[1].scale_source, ScaleSource::Prediction);
  EXPECT_DOUBLE_EQ(r.images[1].mm_per_px, 0.5);
  EXPECT_EQ(r.images[2].scale_source, ScaleSource::SellaNasion);
  EXPECT_DOUBLE_EQ(r.images[2].mm_per_px, 0.1);

  EvaluationOptions recorded;
  recorded.scale_mode = ScaleMode::Recorded;
  r = evaluate(truth, preds, recorded);
  EXPECT_TRUE(r.images[1].scored);
  EXPECT_FALSE(r.images[2].scored);  // no spacing known and S–N not allowed

  EvaluationOptions global;
  global.pixel_spacing_mm = 0.3;
  r = evaluate(truth, preds, global);
  for (const auto& i : r.images) EXPECT_DOUBLE_EQ(i.mm_per_px, 0.3);
}

TEST(Evaluate, UnpredictedUnmatchedAndLandmarkFilter) {
  const std::vector<GroundTruth> truth{gt("1", {{"S", 0, 0}, {"N", 10, 0}, {"Ba", 5, 5}}), gt("2", {{"S", 0, 0}})};
  const std::vector<PredictedImage> preds{pred("1", {{"S", 3, 4}, {"Ba", 5, 5}}), pred("99", {{"S", 0, 0}})};
  EvaluationOptions o;
  o.pixel_spacing_mm = 1.0;
  auto r = evaluate(truth, preds, o);
  EXPECT_EQ(landmark(r, "N").unpredicted, 1u);  // not turned into an error
  EXPECT_EQ(landmark(r, "N").stats.n, 0u);
  EXPECT_EQ(r.overall.n, 2u);
  EXPECT_DOUBLE_EQ(r.overall.mre, 2.5);  // S 5 mm, Ba 0 mm
  EXPECT_EQ(r.images[0].unpredicted, std::vector<std::string>{"N"});
  EXPECT_EQ(r.images[1].skip_reason, "no prediction");
  EXPECT_EQ(r.unmatched_predictions, std::vector<std::string>{"99"});
  EXPECT_EQ(r.landmarks[0].name, "S");  // canonical order: S, N, ..., Ba
  EXPECT_EQ(r.landmarks.back().name, "Ba");

  o.landmarks = {"Ba"};
  r = evaluate(truth, preds, o);
  ASSERT_EQ(r.landmarks.size(), 1u);
  EXPECT_DOUBLE_EQ(r.overall.mre, 0.0);
}

TEST(Evaluate, TwoPredictionsForOneImageAreRefused) {
  EXPECT_THROW(evaluate({gt("1", {{"S", 0, 0}})}, {pred("a/1.jpg", {}), pred("b/1.png", {})}), GroundTruthError);
}

TEST(Predictions, BatchAndSingleResultJson) {
  const auto batch = nlohmann::json::parse(R"({
    "imgs/151.jpg": {"pixel_spacing_mm": 0.1, "landmarks": [{"index": 0, "name": "S", "x": 1.5, "y": 2.5, "peak": 0.9},
                                                             {"name": "N", "x": null, "y": null},
                                                             {"name": "Or", "x": 3, "y": 4, "available": false}]},
    "imgs/152.jpg": {"landmarks": [{"name": "S", "x": 7, "y": 8}]}})");
  const auto p = predictions_from_json(batch, "p.json");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].stem(), "151");
  EXPECT_EQ(p[0].pixel_spacing_mm, 0.1);
  ASSERT_EQ(p[0].landmarks.size(), 1u);  // N is null, Or unavailable
  EXPECT_DOUBLE_EQ(p[0].landmarks[0].y, 2.5);
  EXPECT_FALSE(p[1].pixel_spacing_mm.has_value());

  const auto single = predictions_from_json(
      nlohmann::json::parse(R"({"source": "x/153.png", "landmarks": [{"name": "S", "x": 1, "y": 2}]})"), "r.json");
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].stem(), "153");
}

TEST(Predictions, MalformedFilesNameTheFileAndProblem) {
  const auto dir = test::temp_dir();
  auto expect_refused = [&](const std::string& text, const std::string& reason) {
    std::ofstream(dir / "p.json") << text;
    try {
      read_predictions_file(dir / "p.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const GroundTruthError& e) {
      EXPECT_NE(std::string(e.what()).find("p.json"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
  };
  expect_refused(R"({"a.jpg": {"landmarks": [{"x": 1, "y": 2}]}})", "name");
  expect_refused(R"({"a.jpg": {"landmarks": [{"name": "S", "x": "1", "y": 2}]}})", "numbers");
  expect_refused(R"({"a.jpg": {"landmarks": [{"name": "S", "x": 1, "y": 2}, {"name": "S", "x": 1, "y": 2}]}})", "twice");
  expect_refused(R"({"a.jpg": {"no": 1}})", "landmarks");
  expect_refused("{", "not valid JSON");
  EXPECT_THROW(read_predictions_file(dir / "missing.json"), GroundTruthError);
}

TEST(IdSelection, RangesNumbersNamesExclusionsAndListFiles) {
  const auto s = IdSelection::parse("151-300, 7 abc");
  EXPECT_TRUE(s.contains("151"));
  EXPECT_TRUE(s.contains("300"));
  EXPECT_FALSE(s.contains("301"));
  EXPECT_TRUE(s.contains("007"));  // numeric stems compare by value
  EXPECT_TRUE(s.contains("abc"));
  EXPECT_FALSE(s.contains("abd"));
  auto t = IdSelection::range(151, 300);
  t.exclude("173").exclude("283");
  EXPECT_FALSE(t.contains("173"));
  EXPECT_TRUE(t.contains("174"));
  EXPECT_THROW(IdSelection::parse("300-151"), std::invalid_argument);

  const auto dir = test::temp_dir();
  std::ofstream(dir / "ids.txt") << "# Test2\n301-305\n310.jpg  # a file name works too\n";
  const auto l = IdSelection::from_list_file(dir / "ids.txt");
  EXPECT_TRUE(l.contains("303"));
  EXPECT_TRUE(l.contains("310"));
  EXPECT_FALSE(l.contains("306"));
}

TEST(Reports, MarkdownIsSortedByErrorAndJsonStatesTheScale) {
  const std::vector<GroundTruth> truth{gt("1", {{"S", 0, 0}, {"N", 0, 0}, {"Me", 0, 0}}, 0.1)};
  const std::vector<PredictedImage> preds{pred("1", {{"S", 10, 0}, {"N", 30, 0}, {"Me", 20, 0}})};
  const auto r = evaluate(truth, preds);
  const auto md = to_markdown(r);
  const auto pos = [&](const std::string& s) { return md.find("| " + s + " |"); };
  ASSERT_NE(pos("N"), std::string::npos);
  EXPECT_LT(pos("N"), pos("Me"));  // 3 mm, then 2 mm, then 1 mm
  EXPECT_LT(pos("Me"), pos("S"));
  EXPECT_LT(pos("S"), md.find("**all**"));
  EXPECT_NE(md.find("ground-truth file"), std::string::npos);
  const auto unsorted = to_markdown(r, false);
  EXPECT_LT(unsorted.find("| S |"), unsorted.find("| N |"));

  const auto j = to_json(r);
  EXPECT_DOUBLE_EQ(j["overall"]["mre_mm"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["overall"]["sdr"]["2.0"].get<double>(), 2.0 / 3.0);
  EXPECT_EQ(j["images"][0]["scale_source"], "ground-truth file");
  EXPECT_DOUBLE_EQ(j["images"][0]["mm_per_px"].get<double>(), 0.1);
  EXPECT_EQ(j["observations"].size(), 3u);
}

}  // namespace
}  // namespace cephtrace
