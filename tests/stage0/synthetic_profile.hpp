// A drawn soft-tissue profile with analytically known landmarks, shared by the Stage 0 tests.
#pragma once

#include <array>
#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace cephtrace::test {

// Anterior profile x(t), t = (y − kTop)/kHeight, through key points (t, x) joined by
// half-cosine blends: x' = 0 at every key point (so alternating key points are the
// profile's local extrema) and x'' changes sign exactly at each segment's midpoint.
struct SyntheticProfile {
  static constexpr int kTop = 60, kHeight = 400, kRight = 449;
  struct Key {
    double t, x;
  };
  static constexpr std::array<Key, 10> kKeys{{
      {0.00, 200},  // forehead
      {0.12, 215},  // soft-tissue nasion
      {0.28, 120},  // Prn: the most anterior point
      {0.38, 190},  // Sn: deepest point behind the nose
      {0.46, 145},  // UL
      {0.52, 175},  // stomion
      {0.58, 140},  // LL
      {0.66, 185},  // mentolabial sulcus
      {0.82, 150},  // Pog_soft
      {1.00, 230},  // throat
  }};
  enum KeyIndex { Prn = 2, Sn = 3, UL = 4, LL = 6, Sulcus = 7, PogSoft = 8 };

  static double x_at(double t) {
    for (size_t i = 0; i + 1 < kKeys.size(); ++i)
      if (t <= kKeys[i + 1].t) {
        const double s = (t - kKeys[i].t) / (kKeys[i + 1].t - kKeys[i].t);
        return kKeys[i].x + (kKeys[i + 1].x - kKeys[i].x) * (1 - std::cos(CV_PI * s)) / 2;
      }
    return kKeys.back().x;
  }
  static int y_of(double t) { return static_cast<int>(std::lround(kTop + t * kHeight)); }
  static cv::Point2d key_point(int i) { return {kKeys[i].x, kTop + kKeys[i].t * kHeight}; }

  // 512² CV_8U mask: soft tissue fills x ≥ x(t) up to kRight on rows kTop..kTop+kHeight.
  static cv::Mat mask() {
    cv::Mat m = cv::Mat::zeros(512, 512, CV_8U);
    for (int y = kTop; y <= kTop + kHeight; ++y) {
      const int x0 = static_cast<int>(std::lround(x_at(double(y - kTop) / kHeight)));
      m.row(y).colRange(x0, kRight + 1).setTo(255);
    }
    return m;
  }
};

}  // namespace cephtrace::test
