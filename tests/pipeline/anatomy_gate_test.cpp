// The anatomical gate: a Stage 1 answer far from where the rest of the head puts the landmark
// is decoded again near there; answers that fit are never touched.
#include "pipeline/anatomy_gate.hpp"

#include <cmath>
#include <stdexcept>
#include <tuple>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "cephtrace/ground_truth.hpp"
#include "cephtrace/predictor.hpp"
#include "pipeline/framing.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

constexpr int kN = 256;

// Where the fitted head puts every landmark on an ISBI-sized view, in heatmap coordinates:
// a head exactly like the training mean.
std::array<std::optional<cv::Point2d>, kNumLandmarks> mean_head_in_heatmap(cv::Size view) {
  framing::Framing identity;
  identity.canvas_to_view = {1, 0, 0, 0, 1, 0};
  identity.canvas = {int(framing::kFrameWidth), int(framing::kFrameHeight)};
  identity.scale = 1;
  std::array<std::optional<cv::Point2d>, kNumLandmarks> out;
  for (int i = 0; i < kNumLandmarks; ++i)
    if (const auto p = framing::expected_position(identity, i))
      out[i] = cv::Point2d(p->x * kN / view.width, p->y * kN / view.height);
  return out;
}

void add_gaussian(cv::Mat heatmaps, int channel, cv::Point2d at, double height) {
  cv::Mat h = heatmap_channel(heatmaps, channel);
  for (int y = 0; y < kN; ++y)
    for (int x = 0; x < kN; ++x)
      h.at<float>(y, x) += float(height * std::exp(-((x - at.x) * (x - at.x) + (y - at.y) * (y - at.y)) / (2 * 2.0 * 2.0)));
}

struct Heads {
  cv::Mat heatmaps;
  std::array<HeatmapPeak, kNumLandmarks> peaks;
};

// Heatmaps with one response per landmark at the mean head (Pm, which the template lacks, at
// the centre), plus `extra` responses; decoded as Stage 1 would.
Heads make_heads(cv::Size view, const std::vector<std::tuple<int, cv::Point2d, double>>& extra) {
  const int sizes[] = {1, kNumLandmarks, kN, kN};
  Heads h{cv::Mat(4, sizes, CV_32F, cv::Scalar(0)), {}};
  const auto head = mean_head_in_heatmap(view);
  for (int i = 0; i < kNumLandmarks; ++i) add_gaussian(h.heatmaps, i, head[i].value_or(cv::Point2d(128, 128)), 0.3);
  for (const auto& [i, at, height] : extra) add_gaussian(h.heatmaps, i, at, height);
  for (int i = 0; i < kNumLandmarks; ++i) h.peaks[i] = decode_heatmap(heatmap_channel(h.heatmaps, i), Decoder::Reference);
  return h;
}

TEST(AnatomyGate, DecodesAFarMissAgainWhereTheHeadPutsIt) {
  const cv::Size view(1935, 2400);
  const int ba = *canonical_index("Ba");
  const auto head = mean_head_in_heatmap(view);
  // Ba's strongest response on the chin (100 mm away), a weaker one where Ba belongs.
  const cv::Point2d chin = *head[*canonical_index("Me")];
  Heads h = make_heads(view, {{ba, chin, 0.6}});
  ASSERT_NEAR(h.peaks[ba].x, chin.x, 1.0);  // Stage 1's own answer is the chin
  const auto before = h.peaks;
  const auto moved = anatomy_gate::apply(h.heatmaps, h.peaks, view, Decoder::Reference);
  EXPECT_TRUE(moved[ba]);
  EXPECT_NEAR(h.peaks[ba].x, head[ba]->x, 0.5);
  EXPECT_NEAR(h.peaks[ba].y, head[ba]->y, 0.5);
  EXPECT_NEAR(h.peaks[ba].peak, 0.3, 0.03);  // the weaker response, not the chin's 0.6
  for (int i = 0; i < kNumLandmarks; ++i)
    if (i != ba) {
      EXPECT_FALSE(moved[i]) << i;
      EXPECT_EQ(h.peaks[i].x, before[i].x) << i;
    }
}

TEST(AnatomyGate, LeavesAnswersWithinTheGateAlone) {
  const cv::Size view(1935, 2400);
  const int go = *canonical_index("Go");
  const auto head = mean_head_in_heatmap(view);
  // Go 20 mm from the mean head (inside the 25 mm gate): an unusual head, not a miss.
  const double px20mm_x = 200.0 * kN / view.width;
  Heads h = make_heads(view, {{go, *head[go] + cv::Point2d(px20mm_x, 0), 0.8}});
  const auto before = h.peaks;
  const auto moved = anatomy_gate::apply(h.heatmaps, h.peaks, view, Decoder::Reference);
  for (int i = 0; i < kNumLandmarks; ++i) {
    EXPECT_FALSE(moved[i]) << i;
    EXPECT_EQ(h.peaks[i].x, before[i].x) << i;
  }
}

TEST(AnatomyGate, DoesNothingWhenTheAnswersAreNotAHead) {
  const cv::Size view(1935, 2400);
  const int sizes[] = {1, kNumLandmarks, kN, kN};
  cv::Mat heatmaps(4, sizes, CV_32F, cv::Scalar(0));
  std::array<HeatmapPeak, kNumLandmarks> peaks;
  for (int i = 0; i < kNumLandmarks; ++i) {  // all on one spot
    add_gaussian(heatmaps, i, {40, 40}, 0.5);
    peaks[i] = decode_heatmap(heatmap_channel(heatmaps, i), Decoder::Reference);
  }
  const auto moved = anatomy_gate::apply(heatmaps, peaks, view, Decoder::Reference);
  for (bool m : moved) EXPECT_FALSE(m);
}

// Test1 film 238: Stage 1 puts Ba on the chin, about 100 mm from the CL-2023 label. The gate
// brings it back and says so.
TEST(AnatomyGateIsbi, BasionOnTheChinIsRelocated) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  const auto shipped = test::shipped_models_dir();
  if (!shipped) GTEST_SKIP() << "shipped models not found";
  const auto truth = import_cl2023(isbi / "annotations" / "cl2023" / "238_landmark.txt").records;
  ASSERT_EQ(truth.size(), 1u);
  const NamedPoint* ba_truth = truth[0].find("Ba");
  ASSERT_NE(ba_truth, nullptr);
  PredictorOptions o;
  o.model_dir = *shipped;
  o.threads = 2;
  auto ba_of = [&](const PredictionResult& r) {
    for (const auto& l : r.landmarks)
      if (l.name == "Ba") return l;
    throw std::runtime_error("no Ba");
  };
  const auto gated = ba_of(Predictor(o).predict(isbi / "images" / "238.jpg"));
  o.anatomy_gate = false;
  const auto plain = ba_of(Predictor(o).predict(isbi / "images" / "238.jpg"));
  const cv::Point2d t(ba_truth->x, ba_truth->y);
  EXPECT_GT(cv::norm(cv::Point2d(plain.x, plain.y) - t) * 0.1, 50.0);  // the miss is real
  EXPECT_FALSE(plain.relocated);
  EXPECT_TRUE(gated.relocated);
  EXPECT_EQ(gated.confidence, "low");
  EXPECT_LT(cv::norm(cv::Point2d(gated.x, gated.y) - t) * 0.1, 8.0);
}

}  // namespace
}  // namespace cephtrace
