// The left-facing view: pixels and positions mirrored alike, the caller's image untouched.
#include "pipeline/left_facing_view.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace cephtrace {
namespace {

LoadedImage image_with_bright_pixel(cv::Point at) {
  LoadedImage image;
  image.grey = cv::Mat(40, 60, CV_8U, cv::Scalar(10));
  image.grey.at<uchar>(at) = 250;
  cv::cvtColor(image.grey, image.rgb, cv::COLOR_GRAY2RGB);
  return image;
}

TEST(LeftFacingView, MirrorsPixelsAndPositionsAlike) {
  const cv::Point bright(7, 12);
  const LoadedImage image = image_with_bright_pixel(bright);
  const LeftFacingView view(image, Orientation::FacingRight);
  cv::Point in_view;
  cv::minMaxLoc(view.grey(), nullptr, nullptr, nullptr, &in_view);
  EXPECT_EQ(in_view, cv::Point(60 - 1 - bright.x, bright.y));
  EXPECT_EQ(view.to_original(cv::Point2d(in_view)), cv::Point2d(bright));
  EXPECT_EQ(view.to_view(view.to_original({3.5, 4})), cv::Point2d(3.5, 4));
  EXPECT_EQ(image.grey.at<uchar>(bright), 250);  // the caller's pixels stay as they were
}

TEST(LeftFacingView, ALeftFacingImageIsTheViewItself) {
  const LoadedImage image = image_with_bright_pixel({7, 12});
  const LeftFacingView view(image, Orientation::FacingLeft);
  EXPECT_EQ(view.grey().data, image.grey.data);  // shared, not copied
  EXPECT_EQ(view.to_original({3.5, 4}), cv::Point2d(3.5, 4));
}

TEST(LeftFacingView, InvertingLeavesTheCallersImage) {
  const LoadedImage image = image_with_bright_pixel({7, 12});
  const LeftFacingView inverted = LeftFacingView(image, Orientation::FacingLeft).inverted();
  EXPECT_EQ(inverted.grey().at<uchar>(12, 7), 5);
  EXPECT_EQ(inverted.rgb().at<cv::Vec3b>(0, 0), cv::Vec3b(245, 245, 245));
  EXPECT_EQ(image.grey.at<uchar>(12, 7), 250);
  EXPECT_EQ(image.rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 10, 10));
}

}  // namespace
}  // namespace cephtrace
