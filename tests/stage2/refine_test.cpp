// Stage 2 local refinement: grid mapping, patch extraction and decoding with a fixture
// model whose heatmap is the (pooled, z-scored) patch itself, so a bright blob is found
// where it really is.
#include "stage2/stage2.hpp"

#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "cephtrace/constants.hpp"
#include "cephtrace/model_contract.hpp"
#include "cephtrace/predictor.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

namespace k = constants;

// A dark image with one Gaussian blob per landmark on a 5×5 lattice (far enough apart that
// a patch sees only its own blob). Returns the blob centres.
cv::Mat blob_image(std::array<cv::Point2d, kNumLandmarks>* centres) {
  cv::Mat f(2000, 2000, CV_32F, cv::Scalar(30));
  for (int i = 0; i < kNumLandmarks; ++i) {
    const cv::Point2d c(200.3 + 400 * (i % 5), 201.7 + 400 * (i / 5));
    (*centres)[i] = c;
    for (int y = int(c.y) - 40; y <= int(c.y) + 40; ++y)
      for (int x = int(c.x) - 40; x <= int(c.x) + 40; ++x)
        f.at<float>(y, x) += 200.0f * std::exp(-((x - c.x) * (x - c.x) + (y - c.y) * (y - c.y)) / (2 * 64.0));
  }
  cv::Mat grey;
  f.convertTo(grey, CV_8U);
  return grey;
}

OnnxModel fixture_refine_model(const std::string& variant = "models_refine") {
  return OnnxModel::load(test::fixture_models_dir(variant) / refine_contract().relative_path,
                         refine_contract());
}

TEST(RefineGrid, ResamplesToTheGridExtentAndMapsPixelCentres) {
  const cv::Mat grey(2400, 1935, CV_8U, cv::Scalar(7));
  const RefineGrid grid = make_refine_grid(grey);
  EXPECT_NEAR(std::sqrt(double(grid.grey.cols) * grid.grey.rows), k::kRefineGridExtent, 1.0);
  EXPECT_NEAR(grid.sx, double(grid.grey.cols) / 1935, 1e-12);
  // Pixel edges map to pixel edges: -0.5 stays -0.5, W-0.5 goes to W'-0.5.
  EXPECT_NEAR(grid.to_grid({-0.5, -0.5}).x, -0.5, 1e-12);
  EXPECT_NEAR(grid.to_grid({1934.5, 2399.5}).x, grid.grey.cols - 0.5, 1e-9);
  EXPECT_NEAR(grid.to_grid({1934.5, 2399.5}).y, grid.grey.rows - 0.5, 1e-9);
  const cv::Point2d p(812.25, 1333.75);
  const cv::Point2d back = grid.to_original(grid.to_grid(p));
  EXPECT_NEAR(back.x, p.x, 1e-9);
  EXPECT_NEAR(back.y, p.y, 1e-9);
}

TEST(RefineGrid, RejectsEmptyOrColourImages) {
  EXPECT_THROW(make_refine_grid(cv::Mat()), std::invalid_argument);
  EXPECT_THROW(make_refine_grid(cv::Mat(10, 10, CV_8UC3)), std::invalid_argument);
}

TEST(RefinePatch, CutsAtTheRoundedCentreZeroOutsideAndZscores) {
  cv::Mat grey(300, 300, CV_8U);
  for (int y = 0; y < grey.rows; ++y)
    for (int x = 0; x < grey.cols; ++x) grey.at<uint8_t>(y, x) = uint8_t(50 + (x + y) / 4);
  cv::Mat patch;
  const cv::Point origin = make_refine_patch(grey, {20.6, 149.4}, patch);
  ASSERT_EQ(patch.size(), cv::Size(k::kRefinePatch, k::kRefinePatch));
  EXPECT_EQ(origin, cv::Point(21 - 64, 149 - 64));
  cv::Scalar mean, sd;
  cv::meanStdDev(patch, mean, sd);
  EXPECT_NEAR(mean[0], 0.0, 1e-4);
  EXPECT_NEAR(sd[0], 1.0, 1e-2);
  // Left of the image (patch x < 43) every pixel has the same (zero-before-z-score) value,
  // darker than any image pixel; inside, values follow the image.
  const float outside = patch.at<float>(10, 0);
  EXPECT_FLOAT_EQ(patch.at<float>(100, 42), outside);
  EXPECT_LT(outside, patch.at<float>(10, 43));
  const double slope = patch.at<float>(70, 100) - patch.at<float>(70, 60);  // 40 px to the right
  EXPECT_NEAR(slope, 2 * (patch.at<float>(90, 80) - patch.at<float>(70, 80)) , 0.05);
  EXPECT_GT(slope, 0.0);
}

TEST(RefineLandmarks, MovesEachStartOntoItsBlob) {
  std::array<cv::Point2d, kNumLandmarks> truth, start;
  const cv::Mat grey = blob_image(&truth);
  for (int i = 0; i < kNumLandmarks; ++i) start[i] = truth[i] + cv::Point2d(15, -11);
  OnnxModel model = fixture_refine_model();
  for (int passes : {1, 2}) {
    const auto refined = refine_landmarks({&model, 1}, make_refine_grid(grey), start, Decoder::Reference, passes);
    for (int i = 0; i < kNumLandmarks; ++i) {
      EXPECT_TRUE(refined[i].applied) << i;
      EXPECT_GT(refined[i].peak, k::kRefineMinPeak) << i;
      // From 18.6 px away to within ~1 grid pixel (2 px here).
      EXPECT_LT(cv::norm(refined[i].position - truth[i]), 2.0) << "landmark " << i << " passes " << passes;
    }
  }
}

// Two fixture models that disagree: the second sees everything one grid pixel right and down.
std::vector<OnnxModel> fixture_refine_pair() {
  const auto dir = test::fixture_models_dir("models_refine_pair");
  std::vector<OnnxModel> pair;
  pair.push_back(OnnxModel::load(dir / refine_model_path(1), refine_contract()));
  pair.push_back(OnnxModel::load(dir / refine_model_path(2), refine_contract()));
  return pair;
}

TEST(RefineLandmarks, AnEnsembleAveragesItsModelsPositionsInEachPass) {
  std::array<cv::Point2d, kNumLandmarks> truth, start;
  const cv::Mat grey = blob_image(&truth);
  for (int i = 0; i < kNumLandmarks; ++i) start[i] = truth[i] + cv::Point2d(9, 6);
  std::vector<OnnxModel> pair = fixture_refine_pair();
  const RefineGrid grid = make_refine_grid(grey);
  const auto first = refine_landmarks({&pair[0], 1}, grid, start, Decoder::Dark, 1);
  const auto second = refine_landmarks({&pair[1], 1}, grid, start, Decoder::Dark, 1);
  const auto both = refine_landmarks(pair, grid, start, Decoder::Dark, 1);
  for (int i = 0; i < kNumLandmarks; ++i) {
    // The second model sees everything one grid pixel right and down: it disagrees.
    const cv::Point2d gap = grid.to_grid(second[i].position) - grid.to_grid(first[i].position);
    EXPECT_NEAR(gap.x, 1.0, 0.25) << i;
    EXPECT_NEAR(gap.y, 1.0, 0.25) << i;
    const cv::Point2d mean = (first[i].position + second[i].position) * 0.5;
    EXPECT_NEAR(both[i].position.x, mean.x, 1e-9) << i;
    EXPECT_NEAR(both[i].position.y, mean.y, 1e-9) << i;
    EXPECT_NEAR(both[i].peak, 0.5 * (first[i].peak + second[i].peak), 1e-9) << i;
  }
  EXPECT_THROW(refine_landmarks({}, grid, start, Decoder::Dark, 1), std::invalid_argument);
}

// The patches may go through the model in any number of forwards: the same answer.
TEST(RefineLandmarks, PatchesPerForwardDoNotChangeTheAnswer) {
  std::array<cv::Point2d, kNumLandmarks> truth, start;
  const cv::Mat grey = blob_image(&truth);
  for (int i = 0; i < kNumLandmarks; ++i) start[i] = truth[i] + cv::Point2d(7 - i % 5, 4 + i % 3);
  std::vector<OnnxModel> pair = fixture_refine_pair();
  const RefineGrid grid = make_refine_grid(grey);
  const auto all = refine_landmarks(pair, grid, start, Decoder::Dark, 2, 25);
  for (int per_forward : {1, 4, 5}) {  // 4: the last forward has a single patch
    const auto chunked = refine_landmarks(pair, grid, start, Decoder::Dark, 2, per_forward);
    for (int i = 0; i < kNumLandmarks; ++i) {
      EXPECT_EQ(chunked[i].position, all[i].position) << i << " with " << per_forward;
      EXPECT_EQ(chunked[i].peak, all[i].peak) << i << " with " << per_forward;
    }
  }
  EXPECT_THROW(refine_landmarks(pair, grid, start, Decoder::Dark, 1, 0), std::invalid_argument);
  EXPECT_THROW(refine_landmarks(pair, grid, start, Decoder::Dark, 1, 26), std::invalid_argument);
}

TEST(RefineLandmarks, KeepsTheStartWhereThePatchHasNoSignal) {
  const cv::Mat flat(1500, 1500, CV_8U, cv::Scalar(90));
  std::array<cv::Point2d, kNumLandmarks> start;
  for (int i = 0; i < kNumLandmarks; ++i) start[i] = {300.0 + 40 * i, 700.5};
  OnnxModel model = fixture_refine_model();
  const auto refined = refine_landmarks({&model, 1}, make_refine_grid(flat), start, Decoder::Dark, 2);
  for (int i = 0; i < kNumLandmarks; ++i) {
    EXPECT_FALSE(refined[i].applied) << i;
    EXPECT_EQ(refined[i].position, start[i]) << i;
  }
}

// Landmarks that fit in a square of side 2·radius share a patch centred on that square.
TEST(PlanPatches, LandmarksWithinTheRadiusShareAPatchCentredOnThem) {
  const std::vector<cv::Point2d> p{{100, 100}, {110, 95}, {130, 100}, {300, 300}, {100, 100}};
  const PatchPlan alone = plan_patches(p, 0);  // only the same position shares
  EXPECT_EQ(alone.patch_of, (std::vector<int>{0, 1, 2, 3, 0}));
  ASSERT_EQ(alone.centres.size(), 4u);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(alone.centres[alone.patch_of[i]], p[i]) << i;

  const PatchPlan ten = plan_patches(p, 10);  // {100,100},{110,95} fit; {130,100} does not
  EXPECT_EQ(ten.patch_of, (std::vector<int>{0, 0, 1, 2, 0}));
  EXPECT_EQ(ten.centres[0], cv::Point2d(105, 97.5));

  const PatchPlan sixteen = plan_patches(p, 16);
  EXPECT_EQ(sixteen.patch_of, (std::vector<int>{0, 0, 0, 1, 0}));
  EXPECT_EQ(sixteen.centres[0], cv::Point2d(115, 97.5));
  for (double r : {0.0, 10.0, 16.0, 250.0}) {
    const PatchPlan plan = plan_patches(p, r);
    for (size_t i = 0; i < p.size(); ++i) {
      const cv::Point2d d = p[i] - plan.centres[plan.patch_of[i]];
      EXPECT_LE(std::max(std::abs(d.x), std::abs(d.y)), r) << i << " radius " << r;
    }
  }
}

// A shared patch answers for each of its landmarks where the landmark really is: the patch's
// own origin, not the landmark's, maps its heatmap back.
TEST(RefineLandmarks, ASharedPatchAnswersForEachOfItsLandmarks) {
  std::array<cv::Point2d, kNumLandmarks> truth, start;
  const cv::Mat grey = blob_image(&truth);
  for (int i = 0; i < kNumLandmarks; ++i) start[i] = truth[i] + cv::Point2d(15, -11);
  start[1] = truth[0] + cv::Point2d(-21, 17);  // landmark 1 starts at landmark 0's blob
  const RefineGrid grid = make_refine_grid(grey);
  const double radius = 20;  // grid px: 0 and 1 start ~19 grid px apart, the blobs ~200
  std::vector<cv::Point2d> on_grid;
  for (const auto& s : start) on_grid.push_back(grid.to_grid(s));
  const PatchPlan plan = plan_patches(on_grid, radius);
  ASSERT_EQ(plan.centres.size(), size_t(kNumLandmarks - 1));
  ASSERT_EQ(plan.patch_of[0], plan.patch_of[1]);
  OnnxModel model = fixture_refine_model();
  for (int per_forward : {1, 5}) {
    const auto refined = refine_landmarks({&model, 1}, grid, start, Decoder::Reference, 1, per_forward, radius);
    EXPECT_LT(cv::norm(refined[0].position - truth[0]), 2.0);
    EXPECT_LT(cv::norm(refined[1].position - truth[0]), 2.0);  // the fixture's channels all see the blob
    for (int i = 2; i < kNumLandmarks; ++i)
      EXPECT_LT(cv::norm(refined[i].position - truth[i]), 2.0) << "landmark " << i;
  }
  EXPECT_THROW(refine_landmarks({&model, 1}, grid, start, Decoder::Reference, 1, 5, -1), std::invalid_argument);
}

// An ensemble's models run side by side on threads of their own: the same answer, bit for
// bit, as one after another, and a model that fails on its thread fails the call.
TEST(RefineLandmarks, ModelsSideBySideAnswerAsOneAfterAnother) {
  std::array<cv::Point2d, kNumLandmarks> truth, start;
  const cv::Mat grey = blob_image(&truth);
  for (int i = 0; i < kNumLandmarks; ++i) start[i] = truth[i] + cv::Point2d(7 - i % 5, 4 + i % 3);
  std::vector<OnnxModel> pair = fixture_refine_pair();
  const RefineGrid grid = make_refine_grid(grey);
  const auto serial = refine_landmarks(pair, grid, start, Decoder::Dark, 2, 5, 0, 0, /*parallel_models=*/false);
  const auto side_by_side = refine_landmarks(pair, grid, start, Decoder::Dark, 2, 5, 0, 0, /*parallel_models=*/true);
  for (int i = 0; i < kNumLandmarks; ++i) {
    EXPECT_EQ(side_by_side[i].position, serial[i].position) << i;
    EXPECT_EQ(side_by_side[i].peak, serial[i].peak) << i;
    EXPECT_EQ(side_by_side[i].spread_grid_px, serial[i].spread_grid_px) << i;
    EXPECT_GT(serial[i].spread_grid_px, 0.1) << i;  // the two models do disagree
  }
  // The second model (on the other thread) has 14 channels, not 25: named, thrown here.
  std::vector<OnnxModel> mismatched;
  mismatched.push_back(OnnxModel::load(test::fixture_models_dir("models_refine_pair") / refine_model_path(1),
                                       refine_contract()));
  mismatched.push_back(OnnxModel::load(
      test::fixture_models_dir("models_extended") / extended_contract().relative_path, extended_contract()));
  try {
    refine_landmarks(mismatched, grid, start, Decoder::Dark, 1, 5, 0, 0, /*parallel_models=*/true);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("refine_extended.onnx"), std::string::npos) << e.what();
  }
}

// A pass after the first refines only the landmarks that the pass before moved at least
// repass_min_move: those keep their first-pass answer, the others get the second pass's.
TEST(RefineLandmarks, ASecondPassOnlyForLandmarksTheFirstMovedFar) {
  std::array<cv::Point2d, kNumLandmarks> truth, start;
  const cv::Mat grey = blob_image(&truth);
  // Even landmarks start on their blob, odd ones 50 px (about 26 grid px) away from it.
  for (int i = 0; i < kNumLandmarks; ++i) start[i] = truth[i] + (i % 2 ? cv::Point2d(41, -29) : cv::Point2d(1, 0));
  OnnxModel model = fixture_refine_model();
  const RefineGrid grid = make_refine_grid(grey);
  const auto one = refine_landmarks({&model, 1}, grid, start, Decoder::Dark, 1);
  const auto two = refine_landmarks({&model, 1}, grid, start, Decoder::Dark, 2);
  const double min_move = 10;
  const auto selective = refine_landmarks({&model, 1}, grid, start, Decoder::Dark, 2, 5, 0, min_move);
  int kept = 0, again = 0, changed_by_second = 0;
  for (int i = 0; i < kNumLandmarks; ++i) {
    if (one[i].moved_grid_px < min_move) {
      ++kept;
      EXPECT_EQ(selective[i].position, one[i].position) << i;
      EXPECT_EQ(selective[i].peak, one[i].peak) << i;
    } else {
      ++again;
      EXPECT_EQ(selective[i].position, two[i].position) << i;
      EXPECT_EQ(selective[i].peak, two[i].peak) << i;
      if (two[i].position != one[i].position) ++changed_by_second;
    }
  }
  EXPECT_EQ(kept, 13);   // the even ones
  EXPECT_EQ(again, 12);  // the odd ones
  EXPECT_GT(changed_by_second, 0);  // else this test could not tell the passes apart
  EXPECT_THROW(refine_landmarks({&model, 1}, grid, start, Decoder::Dark, 2, 5, 0, -1), std::invalid_argument);
}

TEST(RefineModel, WrongOutputShapeIsRefusedNamingTheFile) {
  try {
    fixture_refine_model("models_bad_refine");
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("refine.onnx"), std::string::npos) << e.what();
  }
}

// The Predictor runs Stage 2 when the model folder has it.
TEST(RefineLandmarks, AnyLandmarkCountWithAModelOfThatCount) {
  // The extended model's contract: 14 patches in, 14 channels out, channel i for patch i.
  std::array<cv::Point2d, kNumLandmarks> blobs;
  const cv::Mat grey = blob_image(&blobs);
  std::array<cv::Point2d, kNumExtended> truth, start;
  for (int i = 0; i < kNumExtended; ++i) truth[i] = blobs[i + 3], start[i] = truth[i] + cv::Point2d(-12, 9);
  OnnxModel model = OnnxModel::load(test::fixture_models_dir("models_extended") / extended_contract().relative_path,
                                    extended_contract());
  const auto refined = refine_landmarks({&model, 1}, make_refine_grid(grey), start, Decoder::Reference, 2, 5);
  ASSERT_EQ(refined.size(), size_t(kNumExtended));
  for (int i = 0; i < kNumExtended; ++i)
    EXPECT_LT(cv::norm(refined[i].position - truth[i]), 2.0) << "landmark " << i;
  // A 25-channel model does not answer for 14 patches.
  OnnxModel stage2 = fixture_refine_model();
  EXPECT_THROW(refine_landmarks({&stage2, 1}, make_refine_grid(grey), start, Decoder::Reference, 1), std::exception);
}

PredictorOptions options_for(const std::string& variant) {
  PredictorOptions o;
  o.model_dir = test::fixture_models_dir(variant);
  o.threads = 1;
  return o;
}

TEST(PredictorStage2, RunsWhenPresentAndRecordsStage1Positions) {
  Predictor predictor(options_for("models_refine"));
  const auto loaded = predictor.loaded_models();
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), "refine"), loaded.end());
  const cv::Mat image = test::synthetic_cephalogram({600, 700});
  const auto r = predictor.predict(image);
  EXPECT_EQ(r.refinement, "stage2");
  for (const auto& l : r.landmarks) {
    ASSERT_TRUE(l.refinement) << l.name;
    if (!l.refinement->applied) {
      EXPECT_EQ(l.x, l.refinement->stage1_x) << l.name;
      EXPECT_EQ(l.y, l.refinement->stage1_y) << l.name;
    }
  }
  const auto json = to_json(r);
  EXPECT_EQ(json["refinement"], "stage2");
  EXPECT_TRUE(json["landmarks"][0].contains("refinement"));

  // Passes = 0 gives Stage 1's positions, which are the refinement's starting points.
  auto off = options_for("models_refine");
  off.refine_passes = 0;
  const auto r0 = Predictor(off).predict(image);
  EXPECT_EQ(r0.refinement, "none");
  for (int i = 0; i < kNumLandmarks; ++i) {
    EXPECT_FALSE(r0.landmarks[i].refinement);
    EXPECT_NEAR(r0.landmarks[i].x, r.landmarks[i].refinement->stage1_x, 1e-9);
    EXPECT_NEAR(r0.landmarks[i].y, r.landmarks[i].refinement->stage1_y, 1e-9);
  }
}

TEST(PredictorStage2, AbsentModelMeansNoRefinement) {
  const auto r = Predictor(options_for("models")).predict(test::synthetic_cephalogram({500, 600}));
  EXPECT_EQ(r.refinement, "none");
  EXPECT_FALSE(r.landmarks[0].refinement);
}

TEST(PredictorStage2, BrokenModelIsReportedOrWithStrictRefused) {
  Predictor lenient(options_for("models_bad_refine"));
  bool reported = false;
  for (const auto& [key, why] : lenient.missing_models())
    if (key == "refine") reported = why.find("refine.onnx") != std::string::npos;
  EXPECT_TRUE(reported);
  EXPECT_EQ(lenient.predict(test::synthetic_cephalogram({500, 600})).refinement, "none");
  auto strict = options_for("models_bad_refine");
  strict.strict = true;
  EXPECT_THROW(Predictor{strict}, ModelError);
}

TEST(PredictorStage2, MirroredInputGivesMirroredRefinedCoordinates) {
  auto left = options_for("models_refine");
  left.orientation = Orientation::FacingLeft;
  auto right = options_for("models_refine");
  right.orientation = Orientation::FacingRight;
  const cv::Mat image = test::synthetic_cephalogram({500, 620}, true);
  cv::Mat mirrored;
  cv::flip(image, mirrored, 1);
  const auto a = Predictor(left).predict(image);
  const auto b = Predictor(right).predict(mirrored);
  for (int i = 0; i < kNumLandmarks; ++i) {
    EXPECT_NEAR(b.landmarks[i].x, (image.cols - 1) - a.landmarks[i].x, 1e-6) << i;
    EXPECT_NEAR(b.landmarks[i].y, a.landmarks[i].y, 1e-6) << i;
  }
}

TEST(PredictorStage2, LoadsNumberedEnsembleMembers) {
  Predictor predictor(options_for("models_refine_pair"));
  const auto loaded = predictor.loaded_models();
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), "refine"), loaded.end());
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), "refine_2"), loaded.end());
  const cv::Mat image = test::synthetic_cephalogram({600, 700});
  const auto pair = predictor.predict(image);
  const auto single = Predictor(options_for("models_refine")).predict(image);
  EXPECT_EQ(pair.refinement, "stage2");
  EXPECT_NE(std::find(pair.models_loaded.begin(), pair.models_loaded.end(), "refine_2"), pair.models_loaded.end());
  bool moved = false;  // the shifted member pulls applied positions away from the single model's
  for (int i = 0; i < kNumLandmarks; ++i)
    if (pair.landmarks[i].refinement->applied && single.landmarks[i].refinement->applied)
      moved |= std::abs(pair.landmarks[i].x - single.landmarks[i].x) > 0.1;
  EXPECT_TRUE(moved);
}

}  // namespace
}  // namespace cephtrace

namespace cephtrace {
namespace {

TEST(PredictorExtended, AddsTheFourteenAfterThe25WhenTheModelIsThere) {
  PredictorOptions o;
  o.model_dir = test::fixture_models_dir("models_extended");
  o.threads = 1;
  Predictor predictor(o);
  const auto loaded = predictor.loaded_models();
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), "extended"), loaded.end());
  const cv::Mat image = test::synthetic_cephalogram({600, 700});
  const auto r = predictor.predict(image);
  ASSERT_EQ(r.landmarks.size(), size_t(kNumTraced));
  for (int i = 0; i < kNumTraced; ++i) {
    const auto& l = r.landmarks[i];
    EXPECT_EQ(l.index, i);
    EXPECT_EQ(l.name, landmark_name(i));
    EXPECT_EQ(l.extended, i >= kNumLandmarks) << l.name;
    if (!l.extended) continue;
    EXPECT_NE(l.confidence, "high") << l.name;  // never high: learnt from 89 films
    EXPECT_FALSE(l.refinement) << l.name;       // Stage 2's fields are the 25's
    EXPECT_TRUE(std::isfinite(l.x) && std::isfinite(l.y)) << l.name;
  }
  EXPECT_GT(r.time_ms(TimedStage::Extended), 0.0);
  EXPECT_NE(std::find(r.models_loaded.begin(), r.models_loaded.end(), "extended"), r.models_loaded.end());
  const auto json = to_json(r);
  EXPECT_EQ(json["landmarks"][lm::U6]["name"], "U6");
  EXPECT_EQ(json["landmarks"][lm::U6]["extended"], true);
  EXPECT_FALSE(json["landmarks"][lm::S].contains("extended"));
  // The predict JSON reads back with the extended names, so `analyze` sees them.
  const auto back = read_predict_json(json, "").front().landmarks;
  ASSERT_TRUE(back.points[lm::L6]);
  EXPECT_DOUBLE_EQ(back.points[lm::L6]->x, r.landmarks[lm::L6].x);

  // Off: the 25, identical to the run with the model.
  o.extended = false;
  Predictor without(o);
  const auto loaded_without = without.loaded_models();
  EXPECT_EQ(std::find(loaded_without.begin(), loaded_without.end(), "extended"), loaded_without.end());
  const auto r25 = without.predict(image);
  ASSERT_EQ(r25.landmarks.size(), size_t(kNumLandmarks));
  for (int i = 0; i < kNumLandmarks; ++i) EXPECT_EQ(r25.landmarks[i].x, r.landmarks[i].x) << i;
}

TEST(PredictorExtended, AWrongShapeIsNamedAndTheRestRuns) {
  PredictorOptions o;
  o.model_dir = test::fixture_models_dir("models_bad_extended");
  o.threads = 1;
  Predictor predictor(o);
  bool named = false;
  for (const auto& [key, why] : predictor.missing_models())
    if (key == "extended") named = why.find("refine_extended.onnx") != std::string::npos;
  EXPECT_TRUE(named);
  EXPECT_EQ(predictor.predict(test::synthetic_cephalogram({600, 700})).landmarks.size(), size_t(kNumLandmarks));
  o.strict = true;
  EXPECT_THROW(Predictor{o}, ModelError);
}

}  // namespace
}  // namespace cephtrace
