#include "pipeline/orientation.hpp"

#include <cmath>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "cephtrace/constants.hpp"

#include "stage0/stage0_phases.hpp"

namespace cephtrace {
namespace {

constexpr int kStatSize = 256;  // working size of the image-statistics test

// Mask pixels in the left (anterior, for a left-facing view) half.
double left_pixels(const cv::Mat& mask) { return cv::countNonZero(mask.colRange(0, mask.cols / 2)); }

// Below this relative difference of the two views the masks do not decide.
constexpr double kDecisiveMaskScore = 0.2;

}  // namespace

OrientationEstimate orientation_from_image_statistics(const cv::Mat& grey_native) {
  cv::Mat small;
  cv::resize(grey_native, small, {kStatSize, kStatSize}, 0, 0, cv::INTER_AREA);
  // Rows 25–90 % hold the face and the air in front of it; skip film-border columns.
  const int margin = kStatSize / 32;
  cv::Mat band = small.rowRange(kStatSize / 4, kStatSize * 9 / 10);
  cv::Mat column_means;
  cv::reduce(band, column_means, 0, cv::REDUCE_AVG, CV_32F);
  cv::blur(column_means, column_means, {9, 1}, {-1, -1}, cv::BORDER_REFLECT);
  cv::Point darkest;
  cv::minMaxLoc(column_means.colRange(margin, kStatSize - margin), nullptr, nullptr, &darkest);
  const double centre = (kStatSize - 2 * margin) / 2.0;
  OrientationEstimate e;
  e.score = (centre - darkest.x) / centre;
  e.orientation = e.score >= 0 ? Orientation::FacingLeft : Orientation::FacingRight;
  e.method = "image_statistics";
  return e;
}

OrientationEstimate detect_orientation(const cv::Mat& grey_native, OnnxModel* profile) {
  if (profile) {
    cv::Mat mirrored_native;
    cv::flip(grey_native, mirrored_native, 1);
    const cv::Mat* views[2] = {&grey_native, &mirrored_native};
    cv::Mat masks[2];
    double left[2];
    for (int v = 0; v < 2; ++v) {
      cv::Mat proc512;
      cv::resize(*views[v], proc512, {constants::kStage0Size, constants::kStage0Size}, 0, 0,
                 cv::INTER_LINEAR);
      masks[v] = stage0::profile_mask_from_output(
          profile->forward(cv::dnn::blobFromImage(proc512, 1.0 / 255.0)));
      left[v] = masks[v].empty() ? 0.0 : left_pixels(masks[v]);
    }
    // A model trained on left-facing profiles finds far more soft tissue on the left of the
    // correct view than of the mirrored one (measured on ISBI: ~20k vs <= 10k pixels).
    const double total = left[0] + left[1];
    const double score = total > 0 ? (left[0] - left[1]) / total : 0.0;
    if (total >= 2 * constants::kEmptyMaskThreshold && std::abs(score) >= kDecisiveMaskScore) {
      OrientationEstimate e;
      e.score = score;
      e.orientation = score > 0 ? Orientation::FacingLeft : Orientation::FacingRight;
      e.method = "profile_mask";
      e.profile_mask512 = masks[score > 0 ? 0 : 1];
      return e;
    }
  }
  return orientation_from_image_statistics(grey_native);
}

}  // namespace cephtrace
