// Field-of-view normalisation: known-answer fits on synthetic layouts, and on a real film the
// framing must undo a tilt and wide borders that Stage 1 alone would not.
#include "pipeline/framing.hpp"

#include <cmath>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cephtrace/ground_truth.hpp"
#include "cephtrace/predictor.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

using Points = std::array<std::optional<cv::Point2d>, kNumLandmarks>;

// A head laid out like the training mean (framing.cpp's table), then scaled, rotated and
// shifted by a known similarity.
Points layout(double scale, double degrees, cv::Point2d shift) {
  const double a = scale * std::cos(degrees * CV_PI / 180), b = scale * std::sin(degrees * CV_PI / 180);
  Points p;
  const char* names[] = {"S", "N", "Or", "Po", "A", "B", "Pog", "Me", "Gn", "Go", "L1_tip", "U1_tip",
                         "UL", "LL", "Sn", "Pog_soft", "PNS", "ANS", "Ar"};
  const double tx[] = {0.5823, 0.2812, 0.3454, 0.6870, 0.2812, 0.2939, 0.2997, 0.3287, 0.3090, 0.6121,
                       0.2639, 0.2557, 0.1937, 0.2037, 0.2257, 0.2610, 0.4982, 0.2761, 0.6529};
  const double ty[] = {0.4342, 0.4041, 0.5106, 0.5102, 0.6355, 0.7666, 0.8256, 0.8505, 0.8423, 0.7270,
                       0.7046, 0.7084, 0.6751, 0.7512, 0.6232, 0.8556, 0.5954, 0.6017, 0.5536};
  for (int k = 0; k < 19; ++k) {
    const double x = tx[k] * framing::kFrameWidth, y = ty[k] * framing::kFrameHeight;
    p[*canonical_index(names[k])] = cv::Point2d(a * x - b * y + shift.x, b * x + a * y + shift.y);
  }
  return p;
}

TEST(Framing, RecoversScaleRotationAndShiftDespiteTwoGrossMisses) {
  Points p = layout(0.55, 9.0, {300, -120});
  p[*canonical_index("Go")] = cv::Point2d(10, 10);      // coarse misses, centimetres away
  p[*canonical_index("Pog_soft")] = cv::Point2d(900, 40);
  std::string why;
  const auto f = framing::fit(p, why);
  ASSERT_TRUE(f) << why;
  EXPECT_NEAR(f->scale, 0.55, 1e-6);
  EXPECT_NEAR(f->rotation_deg, 9.0, 1e-6);
  EXPECT_EQ(f->inliers, 17);
  EXPECT_NEAR(f->residual_mm, 0.0, 1e-6);
  // Smaller than ISBI: the canvas keeps the film's resolution.
  EXPECT_EQ(f->canvas, cv::Size(int(std::lround(1935 * 0.55)), int(std::lround(2400 * 0.55))));
  // The canvas point where the template puts S maps onto the film's S.
  const cv::Point2d s_canvas(0.5823 * 1935 * 0.55, 0.4342 * 2400 * 0.55);
  const cv::Point2d s_view = framing::to_view(*f, s_canvas);
  EXPECT_NEAR(s_view.x, p[*canonical_index("S")]->x, 1e-6);
  EXPECT_NEAR(s_view.y, p[*canonical_index("S")]->y, 1e-6);
}

TEST(Framing, LargeFilmsAreSampledAtTrainingResolution) {
  std::string why;
  const auto f = framing::fit(layout(2.0, 0.0, {0, 0}), why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f->canvas, cv::Size(1935, 2400));
  // One canvas pixel is two film pixels.
  const cv::Point2d o = framing::to_view(*f, {0, 0}), x = framing::to_view(*f, {1, 0});
  EXPECT_NEAR(cv::norm(x - o), 2.0, 1e-9);
}

TEST(Framing, RefusesPointsThatAreNotAHead) {
  Points p;
  cv::RNG rng(7);
  for (int i = 0; i < kNumLandmarks; ++i) p[i] = cv::Point2d(rng.uniform(0.0, 2000.0), rng.uniform(0.0, 2000.0));
  std::string why;
  EXPECT_FALSE(framing::fit(p, why));
  EXPECT_FALSE(why.empty());
  Points few;
  few[0] = cv::Point2d(1, 1);
  EXPECT_FALSE(framing::fit(few, why));
  EXPECT_NE(why.find("too few"), std::string::npos) << why;
}

TEST(Framing, ResampleMovesPixelsWhereToViewSays) {
  Points p = layout(0.5, -7.0, {100, 50});
  std::string why;
  const auto f = framing::fit(p, why);
  ASSERT_TRUE(f) << why;
  cv::Mat view(1400, 1200, CV_8UC1, cv::Scalar(0));
  const cv::Point2d canvas_point(400, 600);
  const cv::Point2d v = framing::to_view(*f, canvas_point);
  cv::circle(view, cv::Point(int(std::lround(v.x)), int(std::lround(v.y))), 6, 255, -1);
  const cv::Mat canvas = framing::resample(view, *f, cv::Scalar(0));
  ASSERT_EQ(canvas.size(), f->canvas);
  const cv::Moments blob = cv::moments(canvas);
  ASSERT_GT(blob.m00, 0);
  EXPECT_LE(cv::norm(cv::Point2d(blob.m10 / blob.m00, blob.m01 / blob.m00) - canvas_point), 1.0);
}

// A real film tilted by 10 degrees inside wide borders: with framing the landmarks land
// where the film's ground truth says, better than the pipeline on the film as it is.
TEST(FramingIsbi, UndoesTiltAndWideBorders) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  const auto shipped = test::shipped_models_dir();
  if (!shipped) GTEST_SKIP() << "shipped models not found";
  const cv::Mat film = cv::imread((isbi / "images" / "151.jpg").string(), cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(film.empty());
  const auto truth = import_isbi_senior(isbi / "annotations" / "senior" / "test1_senior.csv").records;
  const GroundTruth* gt = nullptr;
  for (const auto& g : truth)
    if (g.stem == "151") gt = &g;
  ASSERT_NE(gt, nullptr);
  // Wide borders (30 % each side), then a 10-degree tilt about the centre, back to film size.
  cv::Mat wide;
  const int px = int(0.3 * film.cols), py = int(0.3 * film.rows);
  cv::copyMakeBorder(film, wide, py, py, px, px, cv::BORDER_CONSTANT, cv::Scalar(10));
  cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(wide.cols / 2.f, wide.rows / 2.f), 10.0, film.cols / double(wide.cols));
  m.at<double>(0, 2) += film.cols / 2.0 - wide.cols / 2.0;
  m.at<double>(1, 2) += film.rows / 2.0 - wide.rows / 2.0;
  cv::Mat shifted;
  cv::warpAffine(wide, shifted, m, film.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(10));
  const double mm_per_px = 0.1 * wide.cols / film.cols;
  auto mean_error_mm = [&](const PredictionResult& r) {
    double sum = 0;
    int n = 0;
    for (const auto& l : gt->landmarks) {
      const double x = l.x + px, y = l.y + py;
      const cv::Point2d t(m.at<double>(0, 0) * x + m.at<double>(0, 1) * y + m.at<double>(0, 2),
                          m.at<double>(1, 0) * x + m.at<double>(1, 1) * y + m.at<double>(1, 2));
      for (const auto& p : r.landmarks)
        if (p.name == l.name) sum += cv::norm(cv::Point2d(p.x, p.y) - t) * mm_per_px, ++n;
    }
    return sum / n;
  };
  PredictorOptions o;
  o.model_dir = *shipped;
  o.threads = 2;
  o.orientation = Orientation::FacingRight;
  Predictor predictor(o);
  const PredictionResult framed = predictor.predict(shifted);
  const PredictionResult original = predictor.predict(film);
  o.framing = false;
  const PredictionResult plain = Predictor(o).predict(shifted);
  ASSERT_TRUE(framed.framing && framed.framing->applied) << framed.framing.value_or(FramingReport{}).reason;
  ASSERT_TRUE(original.framing && original.framing->applied) << original.framing.value_or(FramingReport{}).reason;
  // The tilt is found on top of the head's own (OpenCV's +10 degrees turn the film
  // counter-clockwise; the models' mirrored view sees it as +10 in the fit's y-down frame),
  // and the head's size with it: the film was shrunk by wide.cols / film.cols.
  EXPECT_NEAR(framed.framing->rotation_deg - original.framing->rotation_deg, 10.0, 2.0);
  EXPECT_NEAR(framed.framing->scale / original.framing->scale,
              double(film.cols) / wide.cols, 0.05);
  const double framed_mm = mean_error_mm(framed), plain_mm = mean_error_mm(plain);
  EXPECT_LT(framed_mm, 2.5);
  EXPECT_LT(framed_mm, plain_mm);
  EXPECT_FALSE(plain.framing);
}

}  // namespace
}  // namespace cephtrace
