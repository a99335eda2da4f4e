// Field-of-view normalisation ("framing"): every cephalostat frames the head differently
// (wider or narrower films, other aspect ratios, the head off-centre, tilted or smaller), and
// the networks, which see the film stretched to 512², were trained on one device's framing.
// A coarse Stage 1 pass finds the head; a similarity transform (scale, rotation, shift) from
// the training images' mean landmark layout to those points says how to resample the film so
// that the head sits as it did in training. The pipeline then runs on that canvas and the
// landmarks are mapped back to the film.
#pragma once

#include <array>
#include <optional>
#include <string>

#include <opencv2/core.hpp>

#include "cephtrace/landmarks.hpp"

namespace cephtrace::framing {

// The canvas the models expect: the ISBI training frame (1935 x 2400 at 0.1 mm/px).
inline constexpr double kFrameWidth = 1935, kFrameHeight = 2400;
// A fit with fewer inliers or farther from the template (median inlier distance, mm) than
// this is not convincing: the engine then also tries the mirrored and the inverted view.
// Measured on 30 ISBI Test1 films: residual median 2.3, 90th percentile 4.8, maximum 6.4 mm;
// a wrong view fits with 12 of 19 inliers at best.
inline constexpr double kSuspectResidualMm = 6.0;
inline constexpr int kConvincingInliers = 16;
// Coarse Stage 1 passes per view at most while the fit is not convincing (each pass runs on
// the film resampled by the previous pass's fit).
inline constexpr int kMaxCoarsePasses = 2;  // a third pass rescued none of the benchmark's misses

struct Framing {
  // Canvas pixel -> view pixel (the view is the left-facing film).
  cv::Matx23d canvas_to_view;
  cv::Size canvas;
  double scale = 1;         // view pixels per template unit (ISBI pixel)
  double rotation_deg = 0;  // head tilt that the canvas undoes
  double residual_mm = 0;   // median inlier distance to the template, in template mm
  int inliers = 0;
};

// Fits the framing to coarse landmark positions (view pixels, canonical order, nullopt =
// not usable). Returns nullopt with `why` set when the points do not look like a head.
// `loose` accepts any tilt and residual (the scale must still be a head's): a first guess
// for a second coarse pass, not a framing to use.
std::optional<Framing> fit(const std::array<std::optional<cv::Point2d>, kNumLandmarks>& coarse,
                           std::string& why, bool loose = false);

// Resamples `view` (any type) onto the canvas; area outside the film gets `fill`.
cv::Mat resample(const cv::Mat& view, const Framing& framing, const cv::Scalar& fill);

// Maps a canvas point back to the view.
cv::Point2d to_view(const Framing& framing, cv::Point2d canvas_point);

// Where the fitted head puts `landmark` (canonical index) in the view: the training images'
// mean position mapped by the fit. nullopt for a landmark the template lacks (Pm).
std::optional<cv::Point2d> expected_position(const Framing& framing, int landmark);

// Where the template puts `landmark` (traced index: canonical or extended) when fitted by a
// least-squares similarity to the `basis_size` canonical landmarks nearest to it in the
// template (Pm excluded), those of them present in `points` (any pixel frame of a
// left-facing view). A local fit follows the head's shape near the landmark better than the
// whole-head fit: on the training images, from their true 25, the 14 extended landmarks start
// 3.2 mm from their labels (`python3 -m training.extended --init-study`). nullopt when the
// template lacks the landmark or fewer than two of the basis are present.
std::optional<cv::Point2d> local_template_position(const std::array<std::optional<cv::Point2d>, kNumLandmarks>& points,
                                                   int landmark, int basis_size = 8);

// The film's background grey: the median of its outermost pixels.
double border_grey(const cv::Mat& grey);

// The part of the film that holds the image: uniform borders of the background grey (a
// scanned film on a wider plate, a PACS export padded to a detector size) cut away, so that
// neither the orientation test nor the coarse pass sees a small head in a sea of border.
// The whole film when there is nothing to cut (under kMinBorderFraction a side) or what
// would be left is implausibly small.
inline constexpr double kMinBorderFraction = 0.02;
cv::Rect content_box(const cv::Mat& grey);

}  // namespace cephtrace::framing
