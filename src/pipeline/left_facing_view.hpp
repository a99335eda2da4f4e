// The film as the models see it: facing left (they were trained on left-facing images), so
// mirrored when the face looks right. The one place that mirrors, pixels and positions alike.
#pragma once

#include <opencv2/core.hpp>

#include "cephtrace/image_io.hpp"
#include "cephtrace/result.hpp"

namespace cephtrace {

class LeftFacingView {
 public:
  LeftFacingView() = default;  // empty
  // Mirrors into new buffers: the caller's image stays untouched (not mirrored: shared).
  LeftFacingView(const LoadedImage& image, Orientation facing)
      : mirrored_(facing == Orientation::FacingRight), rgb_is_grey_(image.rgb_is_grey) {
    if (mirrored_) {
      cv::flip(image.grey, grey_, 1);
      cv::flip(image.rgb, rgb_, 1);
    } else {
      grey_ = image.grey;
      rgb_ = image.rgb;
    }
  }

  const cv::Mat& grey() const { return grey_; }
  const cv::Mat& rgb() const { return rgb_; }
  bool rgb_is_grey() const { return rgb_is_grey_; }
  // What Stage 1's RGB input is resampled from: the grey alone when the RGB only repeats it
  // (a third of the work, the same pixels once repeated), else the RGB.
  const cv::Mat& stage1_pixels() const { return rgb_is_grey_ ? grey_ : rgb_; }
  int width() const { return rgb_.cols; }
  int height() const { return rgb_.rows; }

  // The same view with the look-up table inverted (bone dark taken as bone bright), in new
  // buffers: the view may share the caller's.
  LeftFacingView inverted() const {
    LeftFacingView v;
    v.mirrored_ = mirrored_;
    v.rgb_is_grey_ = rgb_is_grey_;
    cv::bitwise_not(grey_, v.grey_);  // v's buffers are empty: bitwise_not allocates new ones
    cv::bitwise_not(rgb_, v.rgb_);
    return v;
  }

  // A position in the view's pixels in the original image's pixels, and back (mirroring is
  // its own inverse).
  cv::Point2d to_original(cv::Point2d p) const {
    return mirrored_ ? cv::Point2d((width() - 1) - p.x, p.y) : p;
  }
  cv::Point2d to_view(cv::Point2d p) const { return to_original(p); }

 private:
  bool mirrored_ = false;
  bool rgb_is_grey_ = false;
  cv::Mat grey_, rgb_;
};

}  // namespace cephtrace
