#include "stage1/stage1.hpp"

#include <cmath>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "cephtrace/model_contract.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

constexpr int kSize = 256;

// exp(−((x − cx)² + (y − cy)²) / 2σ²) on the integer grid, as the training targets are drawn.
cv::Mat gaussian(double cx, double cy, double sigma, int size = kSize, double amplitude = 1.0) {
  cv::Mat h(size, size, CV_32F);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      h.at<float>(y, x) = static_cast<float>(
          amplitude * std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * sigma * sigma)));
  return h;
}

double distance(const HeatmapPeak& p, double cx, double cy) { return std::hypot(p.x - cx, p.y - cy); }

struct Errors {
  double mean = 0, max = 0;
};

// Decodes `trials` Gaussians at random sub-pixel centres (fixed seed), σ in [1.5, 4],
// optionally with additive white noise of the given standard deviation.
Errors decode_errors(Decoder decoder, double noise, int trials = 150) {
  std::mt19937 rng(20240515);
  std::uniform_real_distribution<double> centre(20.0, 235.0), sigma(1.5, 4.0);
  std::normal_distribution<float> white(0.0f, static_cast<float>(noise));
  Errors e;
  for (int i = 0; i < trials; ++i) {
    const double cx = centre(rng), cy = centre(rng), s = sigma(rng);
    cv::Mat h = gaussian(cx, cy, s);
    // One thread: a shared std::mt19937 is not thread-safe (forEach ran this in parallel,
    // a data race that also made the noise differ from run to run).
    if (noise > 0)
      for (auto it = h.begin<float>(); it != h.end<float>(); ++it) *it += white(rng);
    const double err = distance(decode_heatmap(h, decoder), cx, cy);
    e.mean += err / trials;
    e.max = std::max(e.max, err);
  }
  return e;
}

// A clean Gaussian has a quadratic log, so one Newton step per axis is exact up to float32
// rounding of the map: measured max error < 1e-5 px over 150 maps (σ 1.5–4). The bound
// leaves margin for other compilers/libm, far below the 0.5 px of an integer argmax.
TEST(DecodeHeatmap, ReferenceIsExactOnCleanGaussians) {
  const Errors e = decode_errors(Decoder::Reference, 0.0);
  EXPECT_LT(e.max, 1e-3) << "mean " << e.mean;
}

// DARK's smoothing turns a sampled σ Gaussian into (almost) a σ' = √(σ² + 2²) one: the
// centre is preserved up to sampling effects (measured max 5e-5 px).
TEST(DecodeHeatmap, DarkIsAccurateOnCleanGaussians) {
  const Errors e = decode_errors(Decoder::Dark, 0.0);
  EXPECT_LT(e.max, 0.05) << "mean " << e.mean;
}

// With noise the reference's 3-point log derivatives are noisy; DARK averages it away
// (measured mean error, noise σ 0.02: reference 0.19 px, DARK 0.023 px; 0.05: 0.41 / 0.056).
TEST(DecodeHeatmap, DarkBeatsReferenceOnNoisyHeatmaps) {
  for (const double noise : {0.02, 0.05}) {
    const Errors ref = decode_errors(Decoder::Reference, noise);
    const Errors dark = decode_errors(Decoder::Dark, noise);
    EXPECT_LT(dark.mean, ref.mean) << "noise " << noise << ": dark " << dark.mean
                                   << " px, reference " << ref.mean << " px";
  }
}

TEST(DecodeHeatmap, PeakIsTheMaximumValue) {
  const cv::Mat h = gaussian(100, 80, 3, kSize, 0.73);
  for (const Decoder d : {Decoder::Reference, Decoder::Dark})
    EXPECT_FLOAT_EQ(decode_heatmap(h, d).peak, 0.73f);
}

TEST(DecodeHeatmap, ArgmaxAtTheBorderIsClampedInside) {
  // Peaks on every corner and edge, including exactly on the first/last row and column.
  const double far = kSize - 1;
  for (const auto& [cx, cy] : {std::pair{0.0, 0.0}, {far, far}, {0.0, far}, {far, 0.0},
                               {128.0, 0.2}, {254.9, 100.0}}) {
    const cv::Mat h = gaussian(cx, cy, 2.0);
    for (const Decoder d : {Decoder::Reference, Decoder::Dark}) {
      const HeatmapPeak p = decode_heatmap(h, d);
      ASSERT_TRUE(std::isfinite(p.x) && std::isfinite(p.y));
      // Clamped to [1, 254] before a step of at most 0.5 (reference) or 1 (DARK).
      const double step = d == Decoder::Dark ? 1.0 : 0.5;
      EXPECT_GE(p.x, 1 - step);
      EXPECT_LE(p.x, kSize - 2 + step);
      EXPECT_GE(p.y, 1 - step);
      EXPECT_LE(p.y, kSize - 2 + step);
      // The reference ends at most half a pixel from the edge in each axis; DARK's
      // zero-padded smoothing pulls border peaks inwards (measured 1.6 px at a corner).
      EXPECT_LT(distance(p, cx, cy), d == Decoder::Dark ? 2.0 : 0.75) << cx << "," << cy;
    }
  }
}

TEST(DecodeHeatmap, ReferenceOffsetIsClippedToHalfAPixel) {
  // A peak outside the map: the argmax (column 0) is clamped to column 1, and the Newton
  // step towards x = -3 is clipped to -0.5. Inside the map the step is exact.
  const cv::Mat h = gaussian(-3.0, 100.25, 2.0);
  const HeatmapPeak p = decode_heatmap(h, Decoder::Reference);
  EXPECT_DOUBLE_EQ(p.x, 0.5);
  EXPECT_NEAR(p.y, 100.25, 1e-3);
}

TEST(DecodeHeatmap, AllZeroHeatmapGivesPeakZero) {
  const cv::Mat h(kSize, kSize, CV_32F, cv::Scalar(0));
  for (const Decoder d : {Decoder::Reference, Decoder::Dark}) {
    const HeatmapPeak p = decode_heatmap(h, d);
    EXPECT_EQ(p.peak, 0.0);
    EXPECT_TRUE(std::isfinite(p.x) && std::isfinite(p.y));
  }
  // The reference's argmax of a flat map is (0, 0), clamped to (1, 1), with no step.
  const HeatmapPeak p = decode_heatmap(h, Decoder::Reference);
  EXPECT_EQ(p.x, 1.0);
  EXPECT_EQ(p.y, 1.0);
}

TEST(DecodeHeatmap, TiesGoToTheFirstMaximumInRowMajorOrder) {
  cv::Mat h(kSize, kSize, CV_32F, cv::Scalar(0));
  h.at<float>(60, 30) = 1.0f;   // later row, smaller x
  h.at<float>(50, 100) = 1.0f;  // earlier row: numpy.argmax picks this one
  const HeatmapPeak p = decode_heatmap(h, Decoder::Reference);
  EXPECT_EQ(p.x, 100.0);
  EXPECT_EQ(p.y, 50.0);
}

TEST(DecodeHeatmap, RejectsUnusableInput) {
  for (const Decoder d : {Decoder::Reference, Decoder::Dark}) {
    EXPECT_THROW(decode_heatmap(cv::Mat(), d), std::invalid_argument);
    EXPECT_THROW(decode_heatmap(cv::Mat(2, 2, CV_32F, cv::Scalar(0)), d), std::invalid_argument);
    EXPECT_THROW(decode_heatmap(cv::Mat(64, 64, CV_8U, cv::Scalar(0)), d), std::invalid_argument);
  }
}

// --- input blob --------------------------------------------------------------------------

float blob_at(const cv::Mat& blob, int c, int y, int x) { return blob.ptr<float>(0, c)[y * 512 + x]; }

TEST(MakeStage1Input, ChannelLayoutRgbThenPriors) {
  cv::Mat rgb(512, 512, CV_8UC3, cv::Scalar(0, 0, 0));
  rgb.at<cv::Vec3b>(20, 10) = {255, 51, 0};  // R, G, B at x = 10, y = 20
  rgb.at<cv::Vec3b>(511, 511) = {0, 0, 102};
  std::vector<cv::Mat> priors;
  for (int i = 0; i < kNumLandmarks; ++i) {
    priors.emplace_back(512, 512, CV_32F, cv::Scalar(0));
    priors.back().at<float>(i, 2 * i) = 0.5f + 0.01f * i;  // a different pixel per channel
  }
  const cv::Mat blob = make_stage1_input(rgb, priors);
  ASSERT_EQ(blob.dims, 4);
  EXPECT_EQ(blob.size[0], 1);
  EXPECT_EQ(blob.size[1], 28);
  EXPECT_EQ(blob.size[2], 512);
  EXPECT_EQ(blob.size[3], 512);
  ASSERT_EQ(blob.type(), CV_32F);

  EXPECT_FLOAT_EQ(blob_at(blob, 0, 20, 10), 1.0f);
  EXPECT_FLOAT_EQ(blob_at(blob, 1, 20, 10), 0.2f);
  EXPECT_FLOAT_EQ(blob_at(blob, 2, 20, 10), 0.0f);
  EXPECT_FLOAT_EQ(blob_at(blob, 2, 511, 511), 0.4f);
  EXPECT_FLOAT_EQ(blob_at(blob, 0, 511, 511), 0.0f);
  for (int i = 0; i < kNumLandmarks; ++i) {
    EXPECT_FLOAT_EQ(blob_at(blob, 3 + i, i, 2 * i), 0.5f + 0.01f * i) << "prior " << i;
    EXPECT_FLOAT_EQ(blob_at(blob, 3 + i, i + 1, 2 * i), 0.0f) << "prior " << i;
  }
}

TEST(MakeStage1Input, NoPriorsMeansZeroChannels) {
  const cv::Mat rgb(512, 512, CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Mat blob = make_stage1_input(rgb, {});
  for (int c = 0; c < 28; ++c) {
    const cv::Mat plane(512, 512, CV_32F, const_cast<float*>(blob.ptr<float>(0, c)));
    EXPECT_EQ(cv::sum(plane)[0], c < 3 ? 512.0 * 512.0 : 0.0) << "channel " << c;
  }
}

TEST(MakeStage1Input, RejectsWrongInputs) {
  const cv::Mat rgb(512, 512, CV_8UC3, cv::Scalar(0));
  EXPECT_THROW(make_stage1_input(cv::Mat(256, 256, CV_8UC3), {}), std::invalid_argument);
  EXPECT_THROW(make_stage1_input(cv::Mat(512, 512, CV_8UC1), {}), std::invalid_argument);
  EXPECT_THROW(make_stage1_input(rgb, std::vector<cv::Mat>(3, cv::Mat(512, 512, CV_32F))),
               std::invalid_argument);
  EXPECT_THROW(make_stage1_input(rgb, std::vector<cv::Mat>(25, cv::Mat(256, 256, CV_32F))),
               std::invalid_argument);
}

// --- the whole stage with a tiny pass-through model -----------------------------------

// Writes a Stage 1 ONNX model that average-pools 2×2 and outputs prior channel c as heatmap
// c (a 1×1 identity convolution), so the decoded landmarks must be where the priors are.
bool write_pass_through_model(const std::filesystem::path& file) {
  const std::string script = R"(
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
w = np.zeros((25, 28, 1, 1), np.float32)
for c in range(25):
    w[c, 3 + c, 0, 0] = 1.0
x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 28, 512, 512])
y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 25, 256, 256])
nodes = [helper.make_node("AveragePool", ["input"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Conv", ["pooled", "w", "b"], ["output"], kernel_shape=[1, 1])]
graph = helper.make_graph(nodes, "stage1", [x], [y],
                          [numpy_helper.from_array(w, "w"),
                           numpy_helper.from_array(np.zeros(25, np.float32), "b")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
model.ir_version = 7
onnx.save(model, sys.argv[1])
)";
  const auto script_file = file.parent_path() / "make_model.py";
  std::ofstream(script_file) << script;
  const std::string cmd = "/usr/bin/python3 '" + script_file.string() + "' '" + file.string() +
                          "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 && std::filesystem::exists(file);
}

TEST(RunStage1, DecodesEachChannelOfTheModelOutput) {
  const auto model_file = test::temp_dir() / "v4_stage1.onnx";
  if (!write_pass_through_model(model_file))
    GTEST_SKIP() << "/usr/bin/python3 with the onnx package is not available; "
                    "skipping the end-to-end Stage 1 test";
  OnnxModel model = OnnxModel::load(model_file, model_contract(ModelKey::Stage1));

  // Prior c: a Gaussian at a known heatmap position. Pooling pixels 2i and 2i+1 puts
  // 512-grid coordinate 2·h + 0.5 at heatmap coordinate h.
  std::vector<cv::Mat> priors;
  std::vector<cv::Point2d> expected;
  for (int c = 0; c < kNumLandmarks; ++c) {
    const cv::Point2d at(30.3 + 7.9 * c, 220.7 - 6.1 * c);
    expected.push_back(at);
    priors.push_back(gaussian(2 * at.x + 0.5, 2 * at.y + 0.5, 8.0, 512, 0.3 + 0.02 * c));
  }
  const cv::Mat blob = make_stage1_input(cv::Mat(512, 512, CV_8UC3, cv::Scalar(90, 90, 90)), priors);

  for (const Decoder d : {Decoder::Reference, Decoder::Dark}) {
    const auto peaks = run_stage1(model, blob, d);
    for (int c = 0; c < kNumLandmarks; ++c) {
      EXPECT_LT(distance(peaks[c], expected[c].x, expected[c].y), 0.05) << "channel " << c;
      EXPECT_NEAR(peaks[c].peak, 0.3 + 0.02 * c, 0.01) << "channel " << c;
    }
  }
}

// release_buffers frees what the network kept from its last forward, and the next forward
// gives the same answer.
TEST(OnnxModel, ReleaseBuffersFreesTheLayerBuffersAndKeepsTheAnswer) {
  const auto model_file = test::temp_dir() / "v4_stage1.onnx";
  if (!write_pass_through_model(model_file))
    GTEST_SKIP() << "/usr/bin/python3 with the onnx package is not available";
  OnnxModel model = OnnxModel::load(model_file, model_contract(ModelKey::Stage1));
  const cv::Mat blob = make_stage1_input(cv::Mat(512, 512, CV_8UC3, cv::Scalar(40, 90, 200)), {});
  const cv::Mat first = model.forward(blob);
#if defined(__GLIBC__)
  auto in_use = [] { const auto m = mallinfo2(); return double(m.uordblks + m.hblkhd); };  // heap + mmapped
  const double before = in_use();
  model.release_buffers();
  // At least the 25×256×256 float output that the network kept (6.25 MiB).
  EXPECT_GE(before - in_use(), 25.0 * 256 * 256 * 4);
#else
  model.release_buffers();
#endif
  const cv::Mat again = model.forward(blob);
  ASSERT_EQ(again.total(), first.total());
  EXPECT_EQ(cv::norm(again, first, cv::NORM_INF), 0.0);
}

}  // namespace
}  // namespace cephtrace
