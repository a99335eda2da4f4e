// Phase 0B: profile features, anterior profile smoothing, soft-tissue points, zones, CLAHE.
#include <cmath>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "stage0/stage0_phases.hpp"
#include "stage0/synthetic_profile.hpp"

namespace cephtrace::stage0 {
namespace {

using test::SyntheticProfile;
namespace c = constants;

// Tolerances: y (where along the profile) within 3 rows; x within 5 px, because the σ = 6
// smoothing flattens this profile's narrow extrema by about σ²·|x''|/2 ≈ 4 px.
void expect_near_point(const std::optional<cv::Point>& found, cv::Point2d expected,
                       const char* name) {
  ASSERT_TRUE(found.has_value()) << name << " not found";
  EXPECT_NEAR(found->x, expected.x, 5.0) << name;
  EXPECT_NEAR(found->y, expected.y, 3.0) << name;
}

TEST(ProfileFeatures, SyntheticProfileFeatures) {
  const ProfileFeatures f = compute_profile_features(SyntheticProfile::mask());
  ASSERT_TRUE(f.valid);
  EXPECT_EQ(f.y_min, SyntheticProfile::kTop);
  EXPECT_EQ(f.y_max, SyntheticProfile::kTop + SyntheticProfile::kHeight);
  EXPECT_EQ(f.height, SyntheticProfile::kHeight);
  EXPECT_EQ(f.x_max, SyntheticProfile::kRight);
  EXPECT_EQ(f.x_min, 120);  // the nose tip is the most anterior point of the drawn profile
  EXPECT_EQ(f.nose_tip.x, 120);
  EXPECT_NEAR(f.nose_tip.y, SyntheticProfile::key_point(SyntheticProfile::Prn).y, 3);
  EXPECT_EQ(f.chin_bottom.y, f.y_max);
  for (size_t i = 1; i < f.contour.size(); ++i) ASSERT_LE(f.contour[i - 1].y, f.contour[i].y);
}

TEST(ProfileFeatures, LargestComponentOnly) {
  cv::Mat mask = SyntheticProfile::mask();
  cv::rectangle(mask, cv::Rect(10, 480, 20, 20), 255, cv::FILLED);  // a separate speck
  const ProfileFeatures f = compute_profile_features(mask);
  ASSERT_TRUE(f.valid);
  EXPECT_EQ(f.x_min, 120);
  EXPECT_EQ(f.y_max, SyntheticProfile::kTop + SyntheticProfile::kHeight);
}

TEST(ProfileFeatures, AnteriorProfileIsLeftmostPixelPerRow) {
  const cv::Mat mask = SyntheticProfile::mask();
  const AnteriorProfile p = anterior_profile(compute_profile_features(mask));
  ASSERT_EQ(p.y.size(), size_t(SyntheticProfile::kHeight + 1));
  for (size_t i = 0; i < p.y.size(); ++i) {
    cv::Point leftmost;
    cv::minMaxLoc(mask.row(p.y[i]), nullptr, nullptr, nullptr, &leftmost);  // first 255
    ASSERT_EQ(p.x[i], leftmost.x) << "row " << p.y[i];
  }
  ASSERT_EQ(p.x_smooth.size(), p.x.size());
}

TEST(ProfileFeatures, SoftTissuePointsMatchTheDrawnProfile) {
  using P = SyntheticProfile;
  const SoftTissuePoints s = find_soft_tissue_points(compute_profile_features(P::mask()));
  EXPECT_EQ(s.found(), 6);
  EXPECT_TRUE(s.missing().empty());
  expect_near_point(s.prn, P::key_point(P::Prn), "Prn");
  expect_near_point(s.sn, P::key_point(P::Sn), "Sn");
  expect_near_point(s.ul, P::key_point(P::UL), "UL");
  expect_near_point(s.ll, P::key_point(P::LL), "LL");
  expect_near_point(s.pog_soft, P::key_point(P::PogSoft), "Pog_soft");

  // Pm is the x'' sign change nearest the middle of the LL..Pog_soft rows. The drawn
  // profile's x'' changes sign exactly at segment midpoints between its key points.
  const double middle_y = (P::key_point(P::LL).y + P::key_point(P::PogSoft).y) / 2;
  cv::Point2d expected_pm;
  double best = 1e9;
  for (int i = P::LL; i < P::PogSoft; ++i) {
    const double t = (P::kKeys[i].t + P::kKeys[i + 1].t) / 2;
    const cv::Point2d inflection(P::x_at(t), P::kTop + t * P::kHeight);
    if (std::abs(inflection.y - middle_y) < best) best = std::abs(inflection.y - middle_y), expected_pm = inflection;
  }
  expect_near_point(s.pm, expected_pm, "Pm");
}

TEST(ProfileFeatures, NoSoftTissuePointsOnASmallProfile) {
  cv::Mat mask = cv::Mat::zeros(512, 512, CV_8U);
  cv::rectangle(mask, cv::Rect(100, 100, 30, 15), 255, cv::FILLED);  // height 14 < 20
  const ProfileFeatures f = compute_profile_features(mask);
  EXPECT_TRUE(f.valid);
  EXPECT_EQ(find_soft_tissue_points(f).found(), 0);
  EXPECT_EQ(find_soft_tissue_points(f).missing().size(), 6u);
}

// scipy.ndimage.gaussian_filter1d(v, σ, mode='reflect'), written out directly.
std::vector<double> reference_smooth(const std::vector<double>& v, double sigma) {
  const int radius = static_cast<int>(4 * sigma + 0.5);
  const int n = static_cast<int>(v.size());
  // d c b a | a b c d   (radius ≤ n here)
  std::vector<double> padded(v.rend() - radius, v.rend());
  padded.insert(padded.end(), v.begin(), v.end());
  padded.insert(padded.end(), v.rbegin(), v.rbegin() + radius);
  double total = 0;
  for (int k = -radius; k <= radius; ++k) total += std::exp(-k * k / (2 * sigma * sigma));
  std::vector<double> out(n, 0.0);
  for (int i = 0; i < n; ++i)
    for (int k = -radius; k <= radius; ++k)
      out[i] += std::exp(-k * k / (2 * sigma * sigma)) / total * padded[i + radius + k];
  return out;
}

TEST(GaussianSmooth, MatchesReflectPaddedConvolution) {
  const std::vector<double> v{0, 0, 0, 10, 0, 0, 1, 2, 7, 3};
  for (double sigma : {1.0, 1.7, 2.2}) {
    const auto got = gaussian_smooth_reflect(v, sigma);
    const auto want = reference_smooth(v, sigma);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << sigma << " " << i;
  }
}

TEST(GaussianSmooth, KernelWiderThanSignalKeepsConstantsAndSymmetry) {
  const auto flat = gaussian_smooth_reflect({4, 4, 4}, 3.0);  // radius 12 > n
  for (double x : flat) EXPECT_NEAR(x, 4.0, 1e-12);
  const auto sym = gaussian_smooth_reflect({1, 5, 9, 5, 1}, 2.5);
  EXPECT_NEAR(sym[0], sym[4], 1e-12);
  EXPECT_NEAR(sym[1], sym[3], 1e-12);
  EXPECT_GT(sym[2], sym[1]);
}

TEST(Zones, FromFeatures) {
  const ProfileFeatures f = compute_profile_features(SyntheticProfile::mask());
  const auto z = compute_zones(f);
  const int pad = c::kZonePad;
  // z1/z4 do not depend on the profile: int(512·0.25) − pad and int(512·0.15) − pad.
  EXPECT_EQ(z[0].x1, 128 - pad);
  EXPECT_EQ(z[0].y2, 435 + pad);
  EXPECT_EQ(z[3].x1, 76 - pad);
  // z2 ends and z3 starts around 0.95·cy, 8 pads apart.
  const int cy95 = static_cast<int>(0.95 * f.centroid.y);
  EXPECT_EQ(z[1].y2, std::min(512, cy95 + 4 * pad));
  EXPECT_EQ(z[2].y1, std::max(0, cy95 - 4 * pad));
  EXPECT_EQ(z[2].y2, 512);
  // z5 surrounds the profile's bounding box.
  EXPECT_LE(z[4].x1, f.x_min);
  EXPECT_GE(z[4].x2, f.x_max);
  EXPECT_LE(z[4].y1, f.y_min);
  EXPECT_GE(z[4].y2, f.y_max);
  for (const auto& b : z) {
    EXPECT_GE(b.x1, 0);
    EXPECT_LE(b.x2, 512);
    EXPECT_GE(b.x2 - b.x1, c::kMinZoneSide);
    EXPECT_GE(b.y2 - b.y1, c::kMinZoneSide);
  }
}

TEST(Zones, FallbackWhenFeaturesUnavailable) {
  const cv::Mat empty = cv::Mat::zeros(512, 512, CV_8U);
  cv::Mat tiny = empty.clone();
  tiny.at<uchar>(200, 200) = tiny.at<uchar>(200, 201) = 255;  // 2 contour points < 10
  for (const cv::Mat& mask : {empty, tiny}) {
    const ProfileFeatures f = compute_profile_features(mask);
    EXPECT_FALSE(f.valid);
    const auto z = compute_zones(f);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(z[i].x1, c::kFallbackZones[i].x1);
      EXPECT_EQ(z[i].y1, c::kFallbackZones[i].y1);
      EXPECT_EQ(z[i].x2, c::kFallbackZones[i].x2);
      EXPECT_EQ(z[i].y2, c::kFallbackZones[i].y2);
    }
  }
}

TEST(Zones, ClampAndMinimumSideByRecentring) {
  // Too narrow in x (50) and y (20): grown to 128 around the same centre.
  const ZoneBox a = clamp_zone({300, 400, 350, 420});
  EXPECT_EQ(a.x2 - a.x1, 128);
  EXPECT_EQ(a.y2 - a.y1, 128);
  EXPECT_EQ((a.x1 + a.x2) / 2, 325);
  EXPECT_EQ((a.y1 + a.y2) / 2, 410);
  // Near the border: shifted to stay inside.
  const ZoneBox b = clamp_zone({480, -30, 600, 40});
  EXPECT_EQ(b.x1, 512 - 128);
  EXPECT_EQ(b.x2, 512);
  EXPECT_EQ(b.y1, 0);
  EXPECT_EQ(b.y2, 128);
  // Large enough: only clamped.
  const ZoneBox d = clamp_zone({-20, 10, 700, 300});
  EXPECT_EQ(d.x1, 0);
  EXPECT_EQ(d.x2, 512);
  EXPECT_EQ(d.y1, 10);
  EXPECT_EQ(d.y2, 300);
}

TEST(ZoneClahe, UsesTheZoneTableAndOnlyTheZonePixels) {
  cv::Mat proc(512, 512, CV_8U);
  cv::RNG rng(7);
  rng.fill(proc, cv::RNG::UNIFORM, 100, 130);  // low contrast: CLAHE visibly changes it
  const ZoneBox zone{40, 60, 300, 260};
  const cv::Rect rect(zone.x1, zone.y1, zone.x2 - zone.x1, zone.y2 - zone.y1);
  for (int i = 0; i < 5; ++i) {
    const cv::Mat out = apply_zone_clahe(proc, zone, i);
    ASSERT_EQ(out.size(), rect.size());
    cv::Mat want;
    const auto& params = c::kZoneClahe[i];
    cv::createCLAHE(params.clip_limit, cv::Size(params.tile_grid, params.tile_grid))
        ->apply(proc(rect).clone(), want);
    EXPECT_EQ(cv::norm(out, want, cv::NORM_INF), 0) << "zone " << i + 1;
    EXPECT_GT(cv::norm(out, proc(rect), cv::NORM_INF), 0);
  }
  // Pixels outside the zone do not matter.
  cv::Mat changed = proc.clone();
  changed.rowRange(300, 512).setTo(0);
  changed.colRange(400, 512).setTo(255);
  EXPECT_EQ(cv::norm(apply_zone_clahe(proc, zone, 1), apply_zone_clahe(changed, zone, 1),
                     cv::NORM_INF), 0);
  // A bad zone index or box gives an empty result, not a crash.
  EXPECT_TRUE(apply_zone_clahe(proc, zone, 7).empty());
  EXPECT_TRUE(apply_zone_clahe(proc, {500, 0, 600, 10}, 0).empty());
}

}  // namespace
}  // namespace cephtrace::stage0
