// Phase 0C: model output → class maps → contours, and the merge of the four zones.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "cephtrace/model_contract.hpp"

#include "stage0/stage0_phases.hpp"

namespace cephtrace::stage0 {
namespace {

// A (1, C, 256, 256) logit blob: −5 everywhere, +5 inside `blobs[c]` (may be empty).
cv::Mat make_output(const std::vector<cv::Rect>& blobs) {
  const int sizes[] = {1, static_cast<int>(blobs.size()), 256, 256};
  cv::Mat out(4, sizes, CV_32F, cv::Scalar(-5));
  for (int k = 0; k < sizes[1]; ++k) {
    cv::Mat channel(256, 256, CV_32F, out.ptr<float>(0, k));
    if (!blobs[k].empty()) channel(blobs[k]).setTo(5);
  }
  return out;
}

TEST(ZoneContours, ClassMapsThresholdLogitsAtZero) {
  const cv::Mat out = make_output({cv::Rect(10, 20, 30, 40), cv::Rect()});
  const auto maps = zone_class_maps(out, 2);
  ASSERT_TRUE(maps.has_value());
  ASSERT_EQ(maps->size(), 2u);
  EXPECT_EQ(cv::countNonZero((*maps)[0]), 30 * 40);
  EXPECT_EQ((*maps)[0].at<uchar>(20, 10), 255);
  EXPECT_EQ(cv::countNonZero((*maps)[1]), 0);
}

TEST(ZoneContours, WrongChannelCountIsAFailedZone) {
  const cv::Mat two = make_output({cv::Rect(10, 10, 50, 50), cv::Rect(10, 10, 50, 50)});
  EXPECT_FALSE(zone_class_maps(two, 1).has_value());
  const ZoneSegmentation seg = segment_zone_output(two, {77, 0, 512, 486}, /*z1*/ 0);
  EXPECT_FALSE(seg.ran);
  EXPECT_TRUE(seg.classes.empty());
  EXPECT_NE(seg.error.find(shape_to_string({1, 2, 256, 256})), std::string::npos) << seg.error;

  const int bad_sizes[] = {1, 1, 128, 128};
  EXPECT_FALSE(zone_class_maps(cv::Mat(4, bad_sizes, CV_32F, cv::Scalar(1)), 1).has_value());
}

TEST(ZoneContours, NullModelIsAFailedZone) {
  const ZoneSegmentation seg = segment_zone(nullptr, cv::Mat(100, 100, CV_8U, 50), {0, 0, 100, 100}, 1);
  EXPECT_FALSE(seg.ran);
  EXPECT_FALSE(seg.error.empty());
}

TEST(ZoneContours, ContourMappedIntoTheZoneAndSpecksDropped) {
  // Zone 256×128 at (100, 200): x scales by 1, y by 0.5 from the 256² map.
  const ZoneBox zone{100, 200, 356, 328};
  cv::Mat map = cv::Mat::zeros(256, 256, CV_8U);
  map(cv::Rect(40, 60, 50, 80)).setTo(255);  // → 50×40 at (140, 230)
  map(cv::Rect(200, 200, 3, 3)).setTo(255);  // a speck: too small to keep
  const ClassContour cc = extract_class_contour(map, zone);
  ASSERT_FALSE(cc.contour512.empty());
  const cv::Rect box = cv::boundingRect(cc.contour512);
  EXPECT_EQ(box, cv::Rect(140, 230, 50, 40));
  ASSERT_EQ(cc.mask512.size(), cv::Size(512, 512));
  // The kept blob only; the 3×3 ellipse (a cross) opening rounds off its four corner pixels.
  EXPECT_EQ(cv::countNonZero(cc.mask512), 50 * 40 - 4);
}

TEST(ZoneContours, KeepsTheContourWithMostPoints) {
  const ZoneBox zone{0, 0, 256, 256};
  cv::Mat map = cv::Mat::zeros(256, 256, CV_8U);
  map(cv::Rect(10, 10, 20, 20)).setTo(255);     // 76 boundary points
  map(cv::Rect(100, 100, 120, 6)).setTo(255);   // long thin: 248 boundary points, area 595
  const ClassContour cc = extract_class_contour(map, zone);
  EXPECT_EQ(cv::boundingRect(cc.contour512), cv::Rect(100, 100, 120, 6));
}

TEST(ZoneContours, NothingBigEnoughGivesNoContour) {
  cv::Mat map = cv::Mat::zeros(256, 256, CV_8U);
  map(cv::Rect(50, 50, 4, 4)).setTo(255);  // area 9, 12 points, survives the opening
  EXPECT_TRUE(extract_class_contour(map, {0, 0, 256, 256}).contour512.empty());
}

// A zone that ran, with a contour of `points` points for each named class (others empty).
ZoneSegmentation fake_zone(int zone_index, const std::map<std::string, int>& points) {
  ZoneSegmentation seg;
  seg.ran = true;
  for (auto name : zone_classes(zone_index).names) {
    ClassContour cc;
    if (auto it = points.find(std::string(name)); it != points.end())
      cc.contour512.assign(it->second, cv::Point(zone_index, 0));  // x tags the zone
    seg.classes.push_back(cc);
  }
  return seg;
}

int source_zone(const ContourSet& merged, const std::string& name) {
  return merged.at(name).contour512.front().x;
}

TEST(ZoneMerge, PrefersPrimaryZonesAndFallsBackToZone4) {
  std::array<ZoneSegmentation, 4> zones{
      fake_zone(0, {{"cranial_base", 30}}),
      fake_zone(1, {{"palatal_plane", 30}, {"upper_incisor_axis", 30}}),
      fake_zone(2, {{"mandibular_border", 30}, {"mandibular_symphysis", 30}, {"lower_incisor_axis", 30}}),
      fake_zone(3, {{"mandibular_border", 50}, {"cranial_base", 50}})};
  ContourSet merged = merge_zone_contours(zones);
  EXPECT_EQ(merged.size(), 6u);
  EXPECT_EQ(source_zone(merged, "cranial_base"), 0);
  EXPECT_EQ(source_zone(merged, "mandibular_border"), 2);
  EXPECT_EQ(source_zone(merged, "palatal_plane"), 1);
  EXPECT_EQ(source_zone(merged, "upper_incisor_axis"), 1);
  EXPECT_EQ(source_zone(merged, "mandibular_symphysis"), 2);
  EXPECT_EQ(source_zone(merged, "lower_incisor_axis"), 2);

  // z1 found nothing and z3 failed: z4 supplies cranial base and mandibular border; the
  // classes only z3 provides are absent.
  zones[0] = fake_zone(0, {});
  zones[2] = ZoneSegmentation{};
  merged = merge_zone_contours(zones);
  EXPECT_EQ(source_zone(merged, "cranial_base"), 3);
  EXPECT_EQ(source_zone(merged, "mandibular_border"), 3);
  EXPECT_FALSE(merged.contains("mandibular_symphysis"));
  EXPECT_FALSE(merged.contains("lower_incisor_axis"));
  EXPECT_EQ(merged.size(), 4u);
}

TEST(ZoneMerge, NothingRanGivesNothing) {
  EXPECT_TRUE(merge_zone_contours({}).empty());
}

}  // namespace
}  // namespace cephtrace::stage0
