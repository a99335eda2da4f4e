// Phase 0B: profile contour and features, anterior profile, the six soft-tissue points,
// the five zones and their CLAHE (spec §4.2).
#include <algorithm>
#include <cmath>
#include <functional>

#include <opencv2/imgproc.hpp>

#include "stage0/stage0_phases.hpp"

namespace cephtrace::stage0 {

namespace c = constants;

ProfileFeatures compute_profile_features(const cv::Mat& mask512) {
  ProfileFeatures f;
  if (mask512.empty() || mask512.channels() != 1) return f;
  cv::Mat binary = mask512 != 0;

  cv::Mat labels, stats, centroids;
  const int count = cv::connectedComponentsWithStats(binary, labels, stats, centroids, 4, CV_32S);
  int largest = 0, largest_area = 0;
  for (int label = 1; label < count; ++label) {  // label 0 is the background
    const int area = stats.at<int>(label, cv::CC_STAT_AREA);
    if (area > largest_area) largest = label, largest_area = area;
  }
  if (largest == 0) return f;

  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(labels == largest, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  if (contours.empty()) return f;
  f.contour = *std::max_element(contours.begin(), contours.end(),
                                [](const auto& a, const auto& b) { return a.size() < b.size(); });
  std::stable_sort(f.contour.begin(), f.contour.end(),
                   [](const cv::Point& a, const cv::Point& b) { return a.y < b.y; });

  const cv::Rect box = cv::boundingRect(f.contour);
  f.x_min = box.x, f.y_min = box.y;
  f.x_max = box.x + box.width - 1, f.y_max = box.y + box.height - 1;
  f.height = f.y_max - f.y_min;
  // A one-row blob has no height to measure t against: use the fallback zones.
  if (static_cast<int>(f.contour.size()) < c::kMinContourPointsForFeatures || f.height < 1)
    return f;

  cv::Point2d sum(0, 0);
  for (const auto& p : f.contour) sum += cv::Point2d(p);
  f.centroid = sum / static_cast<double>(f.contour.size());

  // Ties go to the first point in y order, as argmin/argmax would.
  const double nose_limit = f.y_min + c::kNoseTopFraction * f.height;
  f.nose_tip = f.contour.front();  // y_min < nose_limit, so a candidate always exists
  for (const auto& p : f.contour)
    if (p.y < nose_limit && p.x < f.nose_tip.x) f.nose_tip = p;
  f.chin_bottom = *std::find_if(f.contour.begin(), f.contour.end(),
                                [&](const cv::Point& p) { return p.y == f.y_max; });
  f.valid = true;
  return f;
}

std::vector<double> gaussian_smooth_reflect(const std::vector<double>& values, double sigma) {
  const int n = static_cast<int>(values.size());
  if (n == 0 || sigma <= 0) return values;
  const int radius = static_cast<int>(c::kGaussianTruncate * sigma + 0.5);
  std::vector<double> kernel(2 * radius + 1);
  double total = 0;
  for (int i = -radius; i <= radius; ++i)
    total += kernel[i + radius] = std::exp(-0.5 * i * i / (sigma * sigma));
  for (double& w : kernel) w /= total;

  // 'reflect' (d c b a | a b c d) is periodic with period 2n, which also covers a
  // kernel wider than the signal.
  auto reflect = [n](int i) {
    i %= 2 * n;
    if (i < 0) i += 2 * n;
    return i < n ? i : 2 * n - 1 - i;
  };
  std::vector<double> out(n);
  for (int i = 0; i < n; ++i) {
    double acc = 0;
    for (int k = -radius; k <= radius; ++k) acc += kernel[k + radius] * values[reflect(i + k)];
    out[i] = acc;
  }
  return out;
}

AnteriorProfile anterior_profile(const ProfileFeatures& features) {
  AnteriorProfile profile;
  for (const auto& p : features.contour) {  // sorted by y
    if (profile.y.empty() || profile.y.back() != p.y) {
      profile.y.push_back(p.y);
      profile.x.push_back(p.x);
    } else {
      profile.x.back() = std::min<double>(profile.x.back(), p.x);
    }
  }
  const double sigma = std::max(c::kProfileSigmaMin, c::kProfileSigmaFraction * features.height);
  profile.x_smooth = gaussian_smooth_reflect(profile.x, sigma);
  return profile;
}

int SoftTissuePoints::found() const {
  return static_cast<int>(prn.has_value()) + sn.has_value() + ul.has_value() + ll.has_value() +
         pog_soft.has_value() + pm.has_value();
}

std::vector<std::string> SoftTissuePoints::missing() const {
  std::vector<std::string> names;
  const std::pair<const char*, const std::optional<cv::Point>*> all[] = {
      {"Prn", &prn}, {"Sn", &sn}, {"UL", &ul}, {"LL", &ll}, {"Pog_soft", &pog_soft}, {"Pm", &pm}};
  for (const auto& [name, point] : all)
    if (!point->has_value()) names.emplace_back(name);
  return names;
}

namespace {

// np.gradient: central differences inside, one-sided at the ends.
std::vector<double> gradient(const std::vector<double>& v) {
  const size_t n = v.size();
  std::vector<double> g(n, 0.0);
  if (n < 2) return g;
  g[0] = v[1] - v[0];
  g[n - 1] = v[n - 1] - v[n - 2];
  for (size_t i = 1; i + 1 < n; ++i) g[i] = (v[i + 1] - v[i - 1]) / 2;
  return g;
}

int sign(double v) { return (v > 0) - (v < 0); }

}  // namespace

SoftTissuePoints find_soft_tissue_points(const AnteriorProfile& profile, int y_min, int height) {
  SoftTissuePoints s;
  const int rows = static_cast<int>(profile.y.size());
  if (rows < c::kMinPointsForSoftTissue || height < c::kMinPointsForSoftTissue) return s;
  const auto& xs = profile.x_smooth;
  auto t_of = [&](double y) { return (y - y_min) / height; };
  auto point = [&](int i) { return cv::Point(static_cast<int>(xs[i]), profile.y[i]); };
  // Profile rows whose y satisfies `keep`, in ascending y.
  auto rows_where = [&](const std::function<bool(double)>& keep) {
    std::vector<int> idx;
    for (int i = 0; i < rows; ++i)
      if (keep(profile.y[i])) idx.push_back(i);
    return idx;
  };
  auto extreme = [&](const std::vector<int>& idx, bool want_min) {
    int best = idx.front();
    for (int i : idx)
      if (want_min ? xs[i] < xs[best] : xs[i] > xs[best]) best = i;
    return best;
  };
  auto in_t = [&](double lo, double hi) {  // open interval of t
    return rows_where([&, lo, hi](double y) { return t_of(y) > lo && t_of(y) < hi; });
  };

  // Prn: the most anterior point of the upper 35 %.
  if (auto idx = rows_where([&](double y) { return t_of(y) < 0.35; }); idx.size() > 3)
    s.prn = point(extreme(idx, true));

  // Sn: first strict local maximum of x (the deepest point behind the nose) in 0.25 < t < 0.5.
  if (auto idx = in_t(0.25, 0.50); idx.size() > 5) {
    const int n = static_cast<int>(idx.size());
    const int k = std::max(3, n / 8);
    std::optional<int> first_peak;
    for (int j = k; j < n - k && !first_peak; ++j) {
      bool peak = true;
      for (int m = j - k; m <= j + k && peak; ++m) peak = m == j || xs[idx[j]] > xs[idx[m]];
      if (peak) first_peak = idx[j];
    }
    s.sn = point(first_peak.value_or(extreme(idx, false)));
  }

  const double t_sn = s.sn ? t_of(s.sn->y) : 0.35;
  if (auto idx = in_t(t_sn, std::min(t_sn + 0.15, 0.55)); !idx.empty())
    s.ul = point(extreme(idx, true));

  const double t_ul = s.ul ? t_of(s.ul->y) : 0.45;
  if (auto idx = in_t(t_ul + 0.02, std::min(t_ul + 0.18, 0.70)); !idx.empty())
    s.ll = point(extreme(idx, true));

  if (auto idx = rows_where([&](double y) { return t_of(y) > 0.75; }); !idx.empty())
    s.pog_soft = point(extreme(idx, true));

  // Pm: the inflection (sign change of x'') nearest the middle between LL and Pog_soft.
  const double lo_y = s.ll ? s.ll->y : y_min + 0.55 * height;
  const double hi_y = s.pog_soft ? s.pog_soft->y : y_min + 0.85 * height;
  if (auto idx = rows_where([&](double y) { return y > lo_y && y < hi_y; }); idx.size() > 10) {
    const int n = static_cast<int>(idx.size());
    std::vector<double> segment;
    for (int i : idx) segment.push_back(xs[i]);
    const std::vector<double> ddx = gradient(gradient(segment));
    std::optional<int> nearest;
    for (int i = 0; i + 1 < n; ++i)
      if (sign(ddx[i]) != sign(ddx[i + 1]) &&
          (!nearest || std::abs(i - n / 2.0) < std::abs(*nearest - n / 2.0)))
        nearest = i;
    if (nearest) {
      s.pm = point(idx[*nearest]);
    } else {
      const std::vector<int> head(idx.begin(), idx.begin() + std::max(1, n / 3));
      s.pm = point(extreme(head, false));
    }
  }
  return s;
}

SoftTissuePoints find_soft_tissue_points(const ProfileFeatures& features) {
  if (!features.valid || static_cast<int>(features.contour.size()) < c::kMinPointsForSoftTissue)
    return {};
  return find_soft_tissue_points(anterior_profile(features), features.y_min, features.height);
}

ZoneBox clamp_zone(ZoneBox z) {
  static constexpr int kSize = c::kStage0Size, kMin = c::kMinZoneSide;
  auto fit_axis = [](int& lo, int& hi) {
    lo = std::clamp(lo, 0, kSize);
    hi = std::clamp(hi, 0, kSize);
    if (hi < lo) std::swap(lo, hi);
    if (hi - lo < kMin) {  // too thin: a kMin-wide span around the same centre, kept inside
      lo = std::clamp((lo + hi) / 2 - kMin / 2, 0, kSize - kMin);
      hi = lo + kMin;
    }
  };
  fit_axis(z.x1, z.x2);
  fit_axis(z.y1, z.y2);
  return z;
}

std::array<ZoneBox, 5> compute_zones(const ProfileFeatures& f) {
  if (!f.valid) return c::kFallbackZones;
  constexpr int kSize = c::kStage0Size, pad = c::kZonePad;
  const int bottom = static_cast<int>(kSize * c::kZoneBottom) + pad;
  const int cy = static_cast<int>(f.centroid.y * c::kZoneCentroidY);
  const int midface_right = static_cast<int>(f.x_max + c::kZoneMidfaceRight * (kSize - f.x_max));
  const std::array<ZoneBox, 5> raw{{
      {static_cast<int>(kSize * c::kZoneCranialLeft) - pad, 0, kSize, bottom},     // z1
      {0, 0, midface_right + 3 * pad, cy + 4 * pad},                                // z2
      {0, cy - 4 * pad, kSize, kSize},                                              // z3
      {static_cast<int>(kSize * c::kZonePosteriorLeft) - pad, 0, kSize, bottom},   // z4
      {f.x_min - 4 * pad, f.y_min - 3 * pad, f.x_max + 4 * pad, f.y_max + 3 * pad}, // z5
  }};
  std::array<ZoneBox, 5> zones;
  std::transform(raw.begin(), raw.end(), zones.begin(), clamp_zone);
  return zones;
}

cv::Mat apply_zone_clahe(const cv::Mat& proc512, const ZoneBox& zone, int zone_index) {
  const cv::Rect rect(zone.x1, zone.y1, zone.x2 - zone.x1, zone.y2 - zone.y1);
  if (proc512.empty() || proc512.type() != CV_8UC1 || zone_index < 0 || zone_index >= 5 ||
      rect.empty() || (rect & cv::Rect(0, 0, proc512.cols, proc512.rows)) != rect)
    return {};
  const auto& params = c::kZoneClahe[zone_index];
  auto clahe = cv::createCLAHE(params.clip_limit, cv::Size(params.tile_grid, params.tile_grid));
  cv::Mat out;
  clahe->apply(proc512(rect).clone(), out);
  return out;
}

}  // namespace cephtrace::stage0
