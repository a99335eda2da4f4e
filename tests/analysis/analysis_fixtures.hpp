// Landmark sets for the analysis tests, built in the profile frame (mm; anterior = +x,
// superior = +y) and drawn into an image facing right at 10 px per mm (0.1 mm/pixel).
#pragma once

#include <cmath>
#include <initializer_list>
#include <numbers>
#include <utility>

#include "cephtrace/analysis.hpp"

namespace cephtrace::test {

inline constexpr double kPxPerMm = 10;
inline constexpr double kImageWidth = 2000, kImageHeight = 2400;

// The point at `distance` mm from `origin` in the direction `deg` (counter-clockwise from
// anterior, so 90 = up, -90 = down, 180 = backwards).
inline cv::Point2d polar(cv::Point2d origin, double deg, double distance) {
  const double r = deg * std::numbers::pi / 180;
  return origin + distance * cv::Point2d(std::cos(r), std::sin(r));
}

// A right-facing image of the given profile-frame points, with 0.1 mm pixels.
inline OriginalImageLandmarks profile_set(std::initializer_list<std::pair<int, cv::Point2d>> points) {
  OriginalImageLandmarks set;
  for (const auto& [idx, p] : points)
    set.points[idx] = cv::Point2d(400 + kPxPerMm * p.x, 1500 - kPxPerMm * p.y);
  set.pixel_spacing_mm = 1 / kPxPerMm;
  return set;
}

// The same face flipped left–right in the image.
inline OriginalImageLandmarks mirrored(OriginalImageLandmarks set) {
  for (auto& p : set.points)
    if (p) p->x = kImageWidth - p->x;
  return set;
}

// The same face rotated by `deg` about the image centre (a tilted head).
inline OriginalImageLandmarks rotated(OriginalImageLandmarks set, double deg) {
  const double r = deg * std::numbers::pi / 180, c = std::cos(r), s = std::sin(r);
  const cv::Point2d centre(kImageWidth / 2, kImageHeight / 2);
  for (auto& p : set.points)
    if (p) {
      const cv::Point2d d = *p - centre;
      *p = centre + cv::Point2d(c * d.x - s * d.y, s * d.x + c * d.y);
    }
  return set;
}

// A real annotation (CL-Detection 2023 labels of ISBI 2015 image 001, right-facing,
// 0.1 mm/pixel): every canonical landmark but Pm, and the 14 extended ones.
inline OriginalImageLandmarks isbi_001() {
  using namespace lm;
  OriginalImageLandmarks set;
  const std::pair<int, cv::Point2d> pts[] = {
      {S, {835, 996}},          {N, {1473, 1029}},       {Or, {1318, 1272}},
      {Po, {623, 1238}},        {A, {1342, 1639}},       {B, {1373, 2029}},
      {Pog, {1333, 2200}},      {Me, {1313, 2244}},      {Gn, {1266, 2279}},
      {Go, {694, 1805}},        {L1_tip, {1457, 1865}},  {U1_tip, {1450, 1864}},
      {UL, {1587, 1757}},       {LL, {1569, 2005}},      {Sn, {1514, 1620}},
      {Pog_soft, {1431, 2236}}, {PNS, {934, 1538}},      {ANS, {1387, 1552}},
      {Ar, {670, 1343}},        {U1_root, {1340, 1661}}, {L1_root, {1321, 2035}},
      {Co, {736, 1185}},        {Prn, {1663, 1528}},     {Ba, {498, 1440}},
      {D, {1276, 2182}},        {Cm, {1588, 1592}},      {Ptm, {938, 1412}},
      {PT, {931, 1222}},        {Bo, {363, 1388}},       {UL_border, {1558, 1718}},
      {LL_border, {1537, 2028}}, {Gn_soft, {1385, 2304}}, {Me_soft, {1266, 2356}},
      {G_soft, {1599, 892}},    {N_soft, {1500, 1146}},  {C_point, {960, 2309}},
      {U6, {1175, 1777}},       {L6, {1208, 1848}}};
  for (const auto& [idx, p] : pts) set.points[idx] = p;
  set.pixel_spacing_mm = 0.1;
  return set;
}

}  // namespace cephtrace::test
