// End-to-end tests of the Predictor with the tiny fixture models (meaningless landmarks,
// real tensor contracts) and, when present, real ISBI images and the shipped models.
#include "cephtrace/predictor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cephtrace/ground_truth.hpp"

#include "pipeline/orientation.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

using test::fixture_models_dir;

PredictorOptions options_for(const std::string& variant) {
  PredictorOptions o;
  o.model_dir = fixture_models_dir(variant);
  o.threads = 1;
  return o;
}

void expect_complete_result(const PredictionResult& r, const cv::Size& size) {
  EXPECT_EQ(r.original_width, size.width);
  EXPECT_EQ(r.original_height, size.height);
  ASSERT_EQ(r.landmarks.size(), static_cast<size_t>(kNumLandmarks));
  for (int i = 0; i < kNumLandmarks; ++i) {
    const auto& l = r.landmarks[i];
    EXPECT_EQ(l.index, i);
    EXPECT_EQ(l.name, canonical_landmarks()[i].name);
    EXPECT_GE(l.x, -1.0);
    EXPECT_LE(l.x, size.width);
    EXPECT_GE(l.y, 0.0);
    EXPECT_LE(l.y, size.height);
    EXPECT_GE(l.confidence_score, 0.0);
    EXPECT_LE(l.confidence_score, 1.0);
  }
  for (const char* phase : {"0A", "0B", "0C", "0D", "0E"}) {
    ASSERT_TRUE(r.stage0_status.contains(phase)) << phase;
    ASSERT_TRUE(r.stage0_details.contains(phase)) << phase;
    EXPECT_TRUE(nlohmann::json::parse(r.stage0_details.at(phase)).is_object()) << phase;
  }
}

// OpenCV's thread count is process-wide: a Predictor sets it when asked (threads > 0) and
// otherwise leaves what the process chose.
TEST(Predictor, ThreadsSetsTheProcessWideCountOnlyWhenAsked) {
  auto o = options_for("models");
  o.threads = 1;
  Predictor one(o);
  EXPECT_EQ(cv::getNumThreads(), 1);
  o.threads = 0;
  Predictor unset(o);
  EXPECT_EQ(cv::getNumThreads(), 1);
  cv::setNumThreads(-1);  // OpenCV's default again, for the other tests
}

// Stage 2's patch sharing radius is checked when the Predictor is made, not at the first film.
TEST(Predictor, RefusesAShareRadiusOutsideThePatch) {
  auto o = options_for("models");
  for (double r : {-1.0, 65.0, std::nan("")}) {
    o.refine_share_radius = r;
    EXPECT_THROW(Predictor{o}, std::invalid_argument) << r;
  }
  o.refine_share_radius = 0;
  EXPECT_NO_THROW(Predictor{o});
}

// So is the extended model's minimum move for a second pass.
TEST(Predictor, RefusesANegativeExtendedRepassMove) {
  auto o = options_for("models");
  for (double v : {-1.0, std::nan("")}) {
    o.extended_repass_min_move = v;
    EXPECT_THROW(Predictor{o}, std::invalid_argument) << v;
  }
  o.extended_repass_min_move = 0;
  EXPECT_NO_THROW(Predictor{o});
}

#if defined(__GLIBC__)
// keep_freed_memory (the default): large buffers freed after a film stay in the process for
// the next film instead of going back to the kernel (glibc's defaults would unmap or trim
// these 100 MiB: blocks over its mmap threshold are unmapped when freed, and a free heap top
// beyond twice that threshold, at most 64 MiB, is trimmed).
TEST(Predictor, KeepFreedMemoryKeepsLargeFreedBuffersInTheProcess) {
  Predictor predictor(options_for("models"));
  ASSERT_TRUE(predictor.options().keep_freed_memory);
  constexpr size_t kBlock = size_t(20) << 20;
  std::vector<void*> blocks;
  for (int i = 0; i < 5; ++i) {
    blocks.push_back(std::malloc(kBlock));
    ASSERT_NE(blocks.back(), nullptr);
    std::memset(blocks.back(), 1, kBlock);
  }
  for (void* b : blocks) std::free(b);
  EXPECT_GE(mallinfo2().fordblks, 5 * kBlock);
}
#endif

// "timings_ms" in the JSON keeps its keys: the stage names, in run order.
TEST(Predictor, TimingsAreKeyedByStageNamesInRunOrder) {
  const std::vector<std::string> run_order{"load_image", "framing", "orientation", "stage0_0A",
                                           "stage0_0B", "stage0_0C", "stage0_0D", "stage0_0E",
                                           "stage0", "stage1_preprocess", "stage1", "stage2", "total"};
  const auto file = test::temp_dir() / "ceph.png";
  cv::imwrite(file.string(), test::synthetic_cephalogram({600, 700}));
  Predictor predictor(options_for("models"));
  const auto timings = to_json(predictor.predict(file))["timings_ms"];
  std::vector<std::string> keys;
  for (const auto& [key, ms] : timings.items()) keys.push_back(key);
  for (const char* always : {"load_image", "framing", "orientation", "stage0_0A", "stage0",
                             "stage1_preprocess", "stage1", "total"})
    EXPECT_NE(std::find(keys.begin(), keys.end(), always), keys.end()) << always;
  auto at = run_order.begin();
  for (const auto& key : keys) {
    at = std::find(at, run_order.end(), key);
    EXPECT_NE(at, run_order.end()) << key << " unknown or out of order";
  }
}

TEST(Predictor, RunsAllStagesWithFixtureModels) {
  Predictor predictor(options_for("models"));
  EXPECT_TRUE(predictor.stage0_available());
  EXPECT_EQ(predictor.loaded_models().size(), 7u);
  const cv::Mat image = test::synthetic_cephalogram({600, 700});
  const PredictionResult r = predictor.predict(image);
  expect_complete_result(r, image.size());
  EXPECT_TRUE(r.stage0_status.at("0A"));  // the fixture profile model finds dark pixels
  EXPECT_EQ(r.models_loaded.size(), 7u);
}

TEST(Predictor, AcceptsTwoChannelProfileOutput) {
  Predictor predictor(options_for("models_2ch"));
  const cv::Mat image = test::synthetic_cephalogram({500, 600});
  const PredictionResult r = predictor.predict(image);
  expect_complete_result(r, image.size());
  EXPECT_TRUE(r.stage0_status.at("0A"));
  EXPECT_GE(nlohmann::json::parse(r.stage0_details.at("0A"))["mask_nonzero_pixels"].get<int>(), 50);
}

TEST(Predictor, MissingStage0GivesDegradedResult) {
  Predictor predictor(options_for("models_no_stage0"));
  EXPECT_FALSE(predictor.stage0_available());
  EXPECT_EQ(predictor.missing_models().size(), 6u);
  const PredictionResult r = predictor.predict(test::synthetic_cephalogram({400, 500}));
  EXPECT_TRUE(r.degraded);
  for (const char* phase : {"0A", "0B", "0C", "0D", "0E"})
    EXPECT_FALSE(r.stage0_status.at(phase));
  expect_complete_result(r, {400, 500});
}

TEST(Predictor, StrictRefusesMissingStage0) {
  auto o = options_for("models_no_stage0");
  o.strict = true;
  try {
    Predictor predictor(o);
    FAIL() << "expected a ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("v4_stage0_profile.onnx"), std::string::npos) << e.what();
  }
}

TEST(Predictor, WrongStage1ShapeNamesFileAndShapes) {
  try {
    Predictor predictor(options_for("models_bad_stage1"));
    FAIL() << "expected a ModelError";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("v4_stage1.onnx"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(1,25,256,256)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(1,24,256,256)"), std::string::npos) << msg;
  }
}

TEST(Predictor, WrongZoneChannelCountFailsOnlyThatZone) {
  Predictor predictor(options_for("models_bad_zone"));
  ASSERT_EQ(predictor.missing_models().size(), 1u);
  EXPECT_EQ(predictor.missing_models()[0].first, "zone2");
  const PredictionResult r = predictor.predict(test::synthetic_cephalogram({500, 600}));
  expect_complete_result(r, {500, 600});
  // Zone 2 gives the palatal plane: with it failed, 0C cannot succeed.
  EXPECT_FALSE(r.stage0_status.at("0C"));
  EXPECT_TRUE(r.degraded);

  auto strict = options_for("models_bad_zone");
  strict.strict = true;
  EXPECT_THROW(Predictor{strict}, ModelError);
}

TEST(Predictor, CorruptOrEmptyModelFilesAreClearErrors) {
  try {
    Predictor predictor(options_for("models_corrupt"));
    FAIL() << "expected a ModelError";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("v4_stage1.onnx"), std::string::npos) << msg;
    EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
  }
}

TEST(Predictor, MissingModelDirectoryNamesStage1File) {
  PredictorOptions o;
  o.model_dir = test::temp_dir() / "nothing-here";
  try {
    Predictor predictor(o);
    FAIL() << "expected a ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("stage1/v4_stage1.onnx"), std::string::npos) << e.what();
  }
}

TEST(Predictor, FileBytesAndMatGiveTheSameResult) {
  Predictor predictor(options_for("models"));
  const cv::Mat image = test::synthetic_cephalogram({480, 560});
  const auto file = test::temp_dir() / "ceph.png";
  ASSERT_TRUE(cv::imwrite(file.string(), image));
  std::vector<uchar> bytes;
  ASSERT_TRUE(cv::imencode(".png", image, bytes));

  const auto a = predictor.predict(file);
  const auto b = predictor.predict(std::span<const uint8_t>(bytes.data(), bytes.size()), "x.png");
  const auto c = predictor.predict(image);
  for (int i = 0; i < kNumLandmarks; ++i) {
    EXPECT_DOUBLE_EQ(a.landmarks[i].x, b.landmarks[i].x);
    EXPECT_DOUBLE_EQ(a.landmarks[i].y, b.landmarks[i].y);
    EXPECT_NEAR(a.landmarks[i].x, c.landmarks[i].x, 1e-9);
    EXPECT_NEAR(a.landmarks[i].y, c.landmarks[i].y, 1e-9);
  }
  EXPECT_EQ(a.source, file.string());
}

TEST(Predictor, ForcedOrientationMirrorsCoordinatesExactly) {
  auto left = options_for("models");
  left.orientation = Orientation::FacingLeft;
  auto right = options_for("models");
  right.orientation = Orientation::FacingRight;
  Predictor as_left(left), as_right(right);
  const cv::Mat image = test::synthetic_cephalogram({500, 620}, true);
  cv::Mat mirrored;
  cv::flip(image, mirrored, 1);
  const auto a = as_left.predict(image);
  const auto b = as_right.predict(mirrored);
  EXPECT_EQ(b.orientation, Orientation::FacingRight);
  EXPECT_FALSE(b.orientation_detected);
  for (int i = 0; i < kNumLandmarks; ++i) {
    EXPECT_NEAR(b.landmarks[i].x, (image.cols - 1) - a.landmarks[i].x, 1e-6) << i;
    EXPECT_NEAR(b.landmarks[i].y, a.landmarks[i].y, 1e-6) << i;
  }
}

TEST(Predictor, SharedAcrossThreadsGivesSequentialResults) {
  Predictor predictor(options_for("models"));
  const cv::Mat image = test::synthetic_cephalogram({420, 500});
  const auto expected = predictor.predict(image);
  std::vector<PredictionResult> results(3);
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&] { r = predictor.predict(image); });
  for (auto& t : threads) t.join();
  for (const auto& r : results)
    for (int i = 0; i < kNumLandmarks; ++i) {
      EXPECT_DOUBLE_EQ(r.landmarks[i].x, expected.landmarks[i].x);
      EXPECT_DOUBLE_EQ(r.landmarks[i].y, expected.landmarks[i].y);
    }
}

TEST(Predictor, HandlesSmallestAndLargestSupportedSizes) {
  Predictor predictor(options_for("models"));
  for (const cv::Size size : {cv::Size(300, 300), cv::Size(4000, 5000)}) {
    const auto r = predictor.predict(test::synthetic_cephalogram(size));
    expect_complete_result(r, size);
  }
}

TEST(Orientation, ImageStatisticsFindTheDarkFacialSide) {
  const cv::Mat left = test::synthetic_cephalogram({512, 600}, true);
  const cv::Mat right = test::synthetic_cephalogram({512, 600}, false);
  cv::Mat grey_left, grey_right;
  cv::extractChannel(left, grey_left, 0);
  cv::extractChannel(right, grey_right, 0);
  EXPECT_EQ(orientation_from_image_statistics(grey_left).orientation, Orientation::FacingLeft);
  EXPECT_EQ(orientation_from_image_statistics(grey_right).orientation, Orientation::FacingRight);
}

// Real data: ISBI images face right; with the same models an image and its mirror image
// must give mirrored coordinates.
TEST(PredictorIsbi, MirroredImageGivesMirroredCoordinates) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  PredictorOptions o;
  const auto shipped = test::shipped_models_dir();
  o.model_dir = shipped ? *shipped : fixture_models_dir("models");
  o.threads = 2;
  Predictor predictor(o);
  const cv::Mat image = cv::imread((isbi / "images" / "151.jpg").string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(image.empty());
  cv::Mat mirrored;
  cv::flip(image, mirrored, 1);
  const auto a = predictor.predict(image);
  const auto b = predictor.predict(mirrored);
  EXPECT_EQ(a.orientation, Orientation::FacingRight);
  EXPECT_EQ(b.orientation, Orientation::FacingLeft);
  for (int i = 0; i < kNumLandmarks; ++i) {
    EXPECT_NEAR(a.landmarks[i].x, (image.cols - 1) - b.landmarks[i].x, 1.0) << i;
    EXPECT_NEAR(a.landmarks[i].y, b.landmarks[i].y, 1.0) << i;
  }
}

// The shipped models for the tests of the facing direction: Stage 1 decides, Stage 2 and the
// extended model are not needed.
PredictorOptions view_choice_options(const std::filesystem::path& shipped) {
  PredictorOptions o;
  o.model_dir = shipped;
  o.threads = 2;
  o.refine_passes = 0;
  o.extended = false;
  return o;
}

// With framing, the framing's coarse pass checks the image statistics' guess of the facing
// direction: a convincing head decides ("head_fit", no profile test); a guess misled by a
// dark strip behind the head finds no convincing head there, and the profile test decides.
TEST(PredictorIsbi, FramingChecksTheStatisticsGuessOfTheFacingDirection) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  const auto shipped = test::shipped_models_dir();
  if (!shipped) GTEST_SKIP() << "shipped models/ incomplete; skipping";
  Predictor predictor(view_choice_options(*shipped));
  const cv::Mat image = cv::imread((isbi / "images" / "151.jpg").string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(image.empty());
  const auto a = predictor.predict(image);
  EXPECT_EQ(a.orientation, Orientation::FacingRight);
  EXPECT_EQ(a.orientation_method, "head_fit");

  cv::Mat misled = image.clone();
  cv::Mat strip = misled.colRange(0, image.cols / 8);  // dark, but not a uniform border (cut away)
  cv::randu(strip, cv::Scalar::all(0), cv::Scalar::all(40));
  for (int c = 1; c < 3; ++c) cv::mixChannels(strip, strip, {0, c});
  cv::Mat grey;
  cv::cvtColor(misled, grey, cv::COLOR_BGR2GRAY);
  ASSERT_EQ(orientation_from_image_statistics(grey).orientation, Orientation::FacingLeft);
  const auto b = predictor.predict(misled);
  EXPECT_EQ(b.orientation, Orientation::FacingRight);
  EXPECT_NE(b.orientation_method, "head_fit");
  EXPECT_LT(std::hypot(a.landmarks[0].x - b.landmarks[0].x, a.landmarks[0].y - b.landmarks[0].y) * 0.1, 2.0);
}

// A grey film (rgb_is_grey) has its grey resampled and repeated where the RGB was resampled
// (framing's coarse passes and canvas, Stage 1's input): the same answer as the RGB path,
// bit for bit, also on a small tilted head on a wide border (a resampled coarse pass) and
// facing left.
TEST(PredictorIsbi, GreyFilmsGiveTheRgbPathsAnswerExactly) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  const auto shipped = test::shipped_models_dir();
  if (!shipped) GTEST_SKIP() << "shipped models/ incomplete; skipping";
  PredictorOptions o;
  o.model_dir = *shipped;
  o.threads = 2;
  Predictor predictor(o);
  const LoadedImage film = load_image(isbi / "images" / "151.jpg");
  ASSERT_TRUE(film.rgb_is_grey);  // ISBI's JPEGs are grey films stored in colour
  cv::Mat small, tilted, mirrored;
  cv::resize(film.grey, small, {}, 0.45, 0.35, cv::INTER_AREA);
  cv::warpAffine(small, tilted, cv::getRotationMatrix2D(cv::Point2f(small.cols / 2.0f, small.rows / 2.0f), 10, 0.8),
                 small.size());
  cv::copyMakeBorder(tilted, tilted, 150, 150, 300, 200, cv::BORDER_CONSTANT, cv::Scalar(20));
  cv::flip(film.grey, mirrored, 1);
  for (const auto& [name, image] : {std::pair{"151", film}, std::pair{"small and tilted", from_mat(tilted)},
                                    std::pair{"mirrored", from_mat(mirrored)}}) {
    ASSERT_TRUE(image.rgb_is_grey) << name;
    LoadedImage as_rgb = image;
    as_rgb.rgb_is_grey = false;
    const auto a = predictor.predict(image);
    const auto b = predictor.predict(as_rgb);
    ASSERT_TRUE(a.framing && a.framing->applied) << name;
    ASSERT_EQ(a.landmarks.size(), b.landmarks.size()) << name;
    for (size_t i = 0; i < a.landmarks.size(); ++i) {
      EXPECT_EQ(a.landmarks[i].x, b.landmarks[i].x) << name << " " << a.landmarks[i].name;
      EXPECT_EQ(a.landmarks[i].y, b.landmarks[i].y) << name << " " << a.landmarks[i].name;
      EXPECT_EQ(a.landmarks[i].confidence_score, b.landmarks[i].confidence_score) << name;
    }
  }
}

}  // namespace
}  // namespace cephtrace

namespace cephtrace {
namespace {

// The fixture Stage 1 makes heatmap c follow prior channel c, so priors given at a known
// position must come back there (up to one heatmap pixel), in the original frame even
// when the image is mirrored for the models.
TEST(Predictor, GivenPriorsDriveStage1AndMapBackToTheImage) {
  for (const auto orientation : {Orientation::FacingLeft, Orientation::FacingRight}) {
    auto o = options_for("models");
    o.orientation = orientation;
    Predictor predictor(o);
    const cv::Mat flat(512, 768, CV_8UC3, cv::Scalar(100, 100, 100));
    OriginalImageLandmarks priors{};
    priors.points[lm::Me] = cv::Point2d(300.0, 200.0);
    const auto r = predictor.predict_with_priors(from_mat(flat), priors);
    EXPECT_EQ(r.priors, "given");
    EXPECT_FALSE(r.degraded);
    const double cell_x = 768.0 / 256, cell_y = 512.0 / 256;
    EXPECT_NEAR(r.landmarks[lm::Me].x, 300.0, 1.5 * cell_x);
    EXPECT_NEAR(r.landmarks[lm::Me].y, 200.0, 1.5 * cell_y);
  }
}

TEST(Predictor, ZeroPriorSourceSkipsStage0) {
  auto o = options_for("models");
  o.priors = PriorSource::Zero;
  Predictor predictor(o);
  const auto r = predictor.predict(test::synthetic_cephalogram({400, 500}));
  EXPECT_EQ(r.priors, "zero");
  EXPECT_TRUE(r.degraded);
  EXPECT_FALSE(r.stage0_status.at("0A"));
  EXPECT_EQ(r.models_loaded, std::vector<std::string>{"stage1"});
}

}  // namespace
}  // namespace cephtrace

namespace cephtrace {
namespace {

// PyTorch exports can hold Identity nodes that OpenCV 4.6 rejects: the error names the node
// and the repair tool; without --strict the predictor runs degraded instead of failing.
TEST(Predictor, UnsupportedIdentityNodeIsNamedAndDegrades) {
  Predictor predictor(options_for("models_identity"));
  const auto missing = predictor.missing_models();
  ASSERT_EQ(missing.size(), 1u);
  const auto& [key, why] = missing[0];
  EXPECT_EQ(key, "derive");
  EXPECT_NE(why.find("weight_identity"), std::string::npos) << why;
  EXPECT_NE(why.find("fix_onnx_for_opencv.py"), std::string::npos) << why;
  EXPECT_TRUE(predictor.predict(test::synthetic_cephalogram({400, 480})).degraded);
}

}  // namespace
}  // namespace cephtrace

namespace cephtrace {
namespace {

// ISBI 124 has a dark field behind the head: the profile masks of the two views are too
// close to decide and the image statistics pick the wrong side. Stage 1 then decides (the
// view it is surer of), for the image and for its mirror image.
TEST(PredictorIsbi, UndecidedMasksLetStage1ChooseTheView) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  const auto shipped = test::shipped_models_dir();
  if (!shipped) GTEST_SKIP() << "shipped models/ incomplete; skipping";
  Predictor predictor(view_choice_options(*shipped));
  const cv::Mat image = cv::imread((isbi / "images" / "124.jpg").string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(image.empty());
  cv::Mat mirrored;
  cv::flip(image, mirrored, 1);
  const auto truth = import_isbi_senior(isbi / "annotations" / "senior" / "train_senior.csv");
  const GroundTruth* gt = nullptr;
  for (const auto& g : truth.records)
    if (g.stem == "124") gt = &g;
  ASSERT_NE(gt, nullptr);
  const NamedPoint* sella = gt->find("S");
  ASSERT_NE(sella, nullptr);

  const auto a = predictor.predict(image);
  const auto b = predictor.predict(mirrored);
  EXPECT_EQ(a.orientation_method, "stage1_peaks");
  EXPECT_EQ(a.orientation, Orientation::FacingRight);
  EXPECT_EQ(b.orientation, Orientation::FacingLeft);
  // Sella within 5 mm: the right view was really used (the wrong one puts it ~50 mm off).
  EXPECT_LT(std::hypot(a.landmarks[0].x - sella->x, a.landmarks[0].y - sella->y) * 0.1, 5.0);
}

// Orientation detection hands its profile mask to Phase 0A; the result must be exactly what
// Phase 0A computes itself when the orientation is given.
TEST(PredictorIsbi, ReusedOrientationMaskEqualsPhase0A) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  const auto shipped = test::shipped_models_dir();
  if (!shipped) GTEST_SKIP() << "shipped models/ incomplete; skipping";
  PredictorOptions detect;
  detect.model_dir = *shipped;
  PredictorOptions forced = detect;
  forced.orientation = Orientation::FacingRight;
  Predictor a(detect), b(forced);
  const auto image = load_image(isbi / "images" / "151.jpg");
  const auto ra = a.predict(image), rb = b.predict(image);
  ASSERT_EQ(ra.orientation, Orientation::FacingRight);
  EXPECT_EQ(ra.stage0_details, rb.stage0_details);
  for (int i = 0; i < kNumLandmarks; ++i) {
    EXPECT_DOUBLE_EQ(ra.landmarks[i].x, rb.landmarks[i].x) << i;
    EXPECT_DOUBLE_EQ(ra.landmarks[i].y, rb.landmarks[i].y) << i;
  }
}

}  // namespace
}  // namespace cephtrace

namespace cephtrace {
namespace {

TEST(Predictor, MirroringLeavesTheCallersImageUntouched) {
  auto o = options_for("models");
  o.orientation = Orientation::FacingRight;
  Predictor predictor(o);
  const LoadedImage image = from_mat(test::synthetic_cephalogram({400, 480}, false));
  const cv::Mat grey_before = image.grey.clone(), rgb_before = image.rgb.clone();
  const auto first = predictor.predict(image);
  EXPECT_EQ(cv::norm(image.grey, grey_before, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(image.rgb, rgb_before, cv::NORM_INF), 0.0);
  const auto second = predictor.predict(image);
  for (int i = 0; i < kNumLandmarks; ++i) EXPECT_DOUBLE_EQ(first.landmarks[i].x, second.landmarks[i].x);
}

// Without the profile model the masks cannot decide, so Stage 1 compares both views; that
// comparison must not flip the caller's image either.
TEST(Predictor, Stage1ViewChoiceLeavesTheCallersImageUntouched) {
  Predictor predictor(options_for("models_no_stage0"));
  const LoadedImage image = from_mat(test::synthetic_cephalogram({400, 480}, false));
  const cv::Mat rgb_before = image.rgb.clone();
  const auto first = predictor.predict(image);
  EXPECT_EQ(first.orientation_method, "stage1_peaks");
  EXPECT_TRUE(first.orientation_detected);
  EXPECT_EQ(cv::norm(image.rgb, rgb_before, cv::NORM_INF), 0.0);
  const auto second = predictor.predict(image);
  EXPECT_EQ(first.orientation, second.orientation);
  for (int i = 0; i < kNumLandmarks; ++i) EXPECT_DOUBLE_EQ(first.landmarks[i].x, second.landmarks[i].x);
}

}  // namespace
}  // namespace cephtrace
