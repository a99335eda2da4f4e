// Stage 0 orchestration: 0A mask decoding, status/details keys, degraded runs without models.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "stage0/stage0.hpp"
#include "stage0/stage0_phases.hpp"
#include "stage0/synthetic_profile.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

const char* const kPhases[] = {"0A", "0B", "0C", "0D", "0E"};

// The keys spec §6 shows for each phase's details.
void expect_spec_detail_keys(const nlohmann::json& details) {
  const std::map<std::string, std::vector<std::string>> keys{
      {"0A", {"mask_nonzero_pixels", "empty_mask_threshold"}},
      {"0B", {"soft_tissue_found", "soft_tissue_expected", "missing", "used_fallback_zones"}},
      {"0C", {"primary_present", "primary_expected", "missing"}},
      {"0D", {"anchors_found", "anchors_expected", "missing"}},
      {"0E", {"mlp_ran"}}};
  for (const auto& [phase, names] : keys) {
    ASSERT_TRUE(details.contains(phase)) << phase;
    for (const auto& name : names) EXPECT_TRUE(details[phase].contains(name)) << phase << "." << name;
  }
}

cv::Mat blob(int channels, float background, const std::function<void(int, cv::Mat&)>& paint) {
  const int sizes[] = {1, channels, 512, 512};
  cv::Mat out(4, sizes, CV_32F, cv::Scalar(background));
  for (int c = 0; c < channels; ++c) {
    cv::Mat plane(512, 512, CV_32F, out.ptr<float>(0, c));
    paint(c, plane);
  }
  return out;
}

TEST(ProfileMask, OneChannelLogitsThresholdAtZero) {
  const cv::Mat out = blob(1, -3.0f, [](int, cv::Mat& p) { p(cv::Rect(10, 20, 30, 40)).setTo(0.5f); });
  const cv::Mat mask = stage0::profile_mask_from_output(out);
  ASSERT_EQ(mask.size(), cv::Size(512, 512));
  EXPECT_EQ(cv::countNonZero(mask), 30 * 40);
  EXPECT_EQ(mask.at<uchar>(20, 10), 255);
}

TEST(ProfileMask, TwoChannelsCompareClasses) {
  const cv::Mat out = blob(2, 0.0f, [](int c, cv::Mat& p) {
    if (c == 0) p.setTo(1.0f);                              // background score 1
    if (c == 1) p(cv::Rect(100, 100, 50, 10)).setTo(2.0f);  // foreground wins here only
  });
  EXPECT_EQ(cv::countNonZero(stage0::profile_mask_from_output(out)), 500);
}

TEST(ProfileMask, WrongShapeGivesEmpty) {
  EXPECT_TRUE(stage0::profile_mask_from_output(blob(3, 1.0f, [](int, cv::Mat&) {})).empty());
  EXPECT_TRUE(stage0::profile_mask_from_output(cv::Mat(512, 512, CV_32F, 1.0f)).empty());
  EXPECT_TRUE(stage0::profile_mask_from_output(cv::Mat()).empty());
}

TEST(RunStage0, WithoutModelsIsDegradedNotACrash) {
  Stage0Models models;
  const Stage0Output out = run_stage0(cv::Mat(700, 600, CV_8U, cv::Scalar(90)), models);
  for (const char* phase : kPhases) {
    ASSERT_TRUE(out.status.contains(phase));
    EXPECT_FALSE(out.status[phase].get<bool>()) << phase;
  }
  expect_spec_detail_keys(out.details);
  EXPECT_EQ(out.details["0A"]["mask_nonzero_pixels"], 0);
  EXPECT_EQ(out.details["0A"]["empty_mask_threshold"], constants::kEmptyMaskThreshold);
  EXPECT_TRUE(out.details["0A"].contains("error"));
  EXPECT_TRUE(out.details["0E"].contains("skipped"));
  EXPECT_FALSE(out.priors_available);
  EXPECT_TRUE(out.attention512.empty());
  ASSERT_EQ(out.timings_ms.size(), 1u);
  EXPECT_EQ(out.timings_ms[0].first, "0A");
}

TEST(RunStage0, BadImagesAreReportedNotThrown) {
  Stage0Models models;
  for (const cv::Mat& image : {cv::Mat(), cv::Mat(40, 30, CV_8UC2, cv::Scalar(1, 2)),
                               cv::Mat(40, 30, CV_16U, cv::Scalar(1000)),
                               cv::Mat(40, 30, CV_8UC3, cv::Scalar(1, 2, 3))}) {
    Stage0Output out;
    ASSERT_NO_THROW(out = run_stage0(image, models));
    expect_spec_detail_keys(out.details);
    EXPECT_FALSE(out.priors_available);
  }
}

TEST(RunStage0, AfterMaskWithoutZoneOrDeriveModels) {
  using test::SyntheticProfile;
  const cv::Size original(1024, 1536);
  const cv::Mat proc512(512, 512, CV_8U, cv::Scalar(100));
  Stage0Models models;  // no zone models, no MLP
  Stage0Output out;
  out.status["0A"] = true;
  out.details["0A"] = {{"mask_nonzero_pixels", 1}, {"empty_mask_threshold", 50}};
  stage0::run_stage0_after_mask(proc512, SyntheticProfile::mask(), original, models, {}, out);

  expect_spec_detail_keys(out.details);
  // 0B: the drawn profile gives real zones and all six soft-tissue points.
  EXPECT_TRUE(out.status["0B"].get<bool>());
  EXPECT_EQ(out.details["0B"]["soft_tissue_found"], 6);
  EXPECT_EQ(out.details["0B"]["soft_tissue_expected"], 6);
  EXPECT_TRUE(out.details["0B"]["missing"].empty());
  EXPECT_FALSE(out.details["0B"]["used_fallback_zones"].get<bool>());
  // 0C: every zone failed; the four primary classes are missing.
  EXPECT_FALSE(out.status["0C"].get<bool>());
  EXPECT_EQ(out.details["0C"]["primary_present"], 0);
  EXPECT_EQ(out.details["0C"]["missing"].size(), 4u);
  EXPECT_EQ(out.details["0C"]["zone_errors"].size(), 4u);
  // 0D: only Prn (from 0B), in original pixels.
  EXPECT_FALSE(out.status["0D"].get<bool>());
  EXPECT_EQ(out.details["0D"]["anchors_found"], 1);
  EXPECT_EQ(out.details["0D"]["missing"],
            nlohmann::json({"S", "N", "Me", "ANS", "Go", "Pog"}));
  // 0E: no MLP → no maps, but the defaulted anchors are reported.
  EXPECT_FALSE(out.status["0E"].get<bool>());
  EXPECT_FALSE(out.details["0E"]["mlp_ran"].get<bool>());
  EXPECT_EQ(out.details["0E"]["anchors_defaulted"].size(), 6u);
  EXPECT_FALSE(out.priors_available);
  EXPECT_TRUE(out.attention512.empty());

  std::vector<std::string> timed;
  for (const auto& [phase, ms] : out.timings_ms) {
    timed.push_back(phase);
    EXPECT_GE(ms, 0.0);
  }
  EXPECT_EQ(timed, (std::vector<std::string>{"0B", "0C", "0D", "0E"}));
  EXPECT_EQ(cv::countNonZero(out.profile_mask512), cv::countNonZero(SyntheticProfile::mask()));
}

TEST(RunStage0, AfterAnEmptyMaskUsesFallbackZones) {
  Stage0Models models;
  Stage0Output out;
  stage0::run_stage0_after_mask(cv::Mat(512, 512, CV_8U, cv::Scalar(0)),
                                cv::Mat::zeros(512, 512, CV_8U), {512, 512}, models, {}, out);
  EXPECT_FALSE(out.status["0B"].get<bool>());
  EXPECT_TRUE(out.details["0B"]["used_fallback_zones"].get<bool>());
  EXPECT_EQ(out.details["0B"]["soft_tissue_found"], 0);
  EXPECT_EQ(out.details["0D"]["anchors_found"], 0);
}

// With the project's profile and MLP models (when present) on a real, mirrored ISBI image:
// 0A finds a profile, and 0E renders 25 maps even though no zone models are given.
TEST(RunStage0, RealProfileAndMlpModelsOnIsbi) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  const auto model_dir = test::source_dir() / "models" / "stage0";
  const auto profile_file = model_dir / "v4_stage0_profile.onnx";
  const auto derive_file = model_dir / "phase0e_model.onnx";
  if (!std::filesystem::exists(profile_file) || !std::filesystem::exists(derive_file))
    GTEST_SKIP() << "project Stage 0 models not found in " << model_dir;
  auto profile = OnnxModel::load(profile_file, model_contract(ModelKey::Profile));
  auto derive = OnnxModel::load(derive_file, model_contract(ModelKey::Derive));
  Stage0Models models;
  models.profile = &profile;
  models.derive = &derive;

  cv::Mat grey = cv::imread((isbi / "images" / "151.jpg").string(), cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(grey.empty());
  cv::flip(grey, grey, 1);  // ISBI faces right; Stage 0 expects a left-facing view
  const Stage0Output out = run_stage0(grey, models);

  expect_spec_detail_keys(out.details);
  EXPECT_TRUE(out.status["0A"].get<bool>());
  EXPECT_GE(out.details["0A"]["mask_nonzero_pixels"].get<int>(), constants::kEmptyMaskThreshold);
  EXPECT_FALSE(out.status["0C"].get<bool>());  // no zone models
  EXPECT_TRUE(out.status["0E"].get<bool>());
  ASSERT_TRUE(out.priors_available);
  ASSERT_EQ(out.attention512.size(), size_t(kNumLandmarks));
  for (int k = 0; k < kNumLandmarks; ++k) {
    EXPECT_EQ(out.attention512[k].size(), cv::Size(512, 512));
    EXPECT_EQ(out.attention512[k].type(), CV_32F);
    // Present priors peak near 1 (an absent one — a missing anchor — is all zero).
    double peak;
    cv::minMaxLoc(out.attention512[k], nullptr, &peak);
    EXPECT_EQ(out.prior_positions[k].has_value(), peak > 0) << canonical_landmarks()[k].name;
  }
  EXPECT_FALSE(out.prior_positions[lm::S].has_value());  // an anchor 0D could not find
  ASSERT_TRUE(out.prior_positions[lm::Prn].has_value());  // from 0B
  EXPECT_GT(out.prior_positions[lm::Prn]->x, 0);
  EXPECT_LT(out.prior_positions[lm::Prn]->x, grey.cols / 2.0);  // on the face side
}

}  // namespace
}  // namespace cephtrace
