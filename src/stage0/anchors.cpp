// Phase 0D: contour polylines, Douglas–Peucker and the seven anchors (spec §4.4).
#include <algorithm>
#include <cmath>
#include <deque>

#include <opencv2/imgproc.hpp>

#include "stage0/stage0_phases.hpp"

namespace cephtrace::stage0 {

namespace c = constants;

// ---------------------------------------------------------------- centre-line

cv::Mat thin_zhang_suen(const cv::Mat& binary) {
  if (binary.empty() || binary.channels() != 1) return {};
  // 0/1 image with a one-pixel empty border so every pixel has eight neighbours.
  cv::Mat img;
  cv::copyMakeBorder(cv::Mat(binary != 0) / 255, img, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);

  std::vector<cv::Point> to_delete;
  bool changed = true;
  while (changed) {
    changed = false;
    for (int pass = 0; pass < 2; ++pass) {
      to_delete.clear();
      for (int y = 1; y < img.rows - 1; ++y) {
        const uchar* up = img.ptr<uchar>(y - 1);
        const uchar* row = img.ptr<uchar>(y);
        const uchar* down = img.ptr<uchar>(y + 1);
        for (int x = 1; x < img.cols - 1; ++x) {
          if (!row[x]) continue;
          // P2..P9 clockwise from north.
          const int p[8] = {up[x],       up[x + 1], row[x + 1], down[x + 1],
                            down[x],     down[x - 1], row[x - 1], up[x - 1]};
          int neighbours = 0, transitions = 0;
          for (int i = 0; i < 8; ++i) {
            neighbours += p[i];
            transitions += (p[i] == 0 && p[(i + 1) % 8] == 1);
          }
          if (neighbours < 2 || neighbours > 6 || transitions != 1) continue;
          const int p2 = p[0], p4 = p[2], p6 = p[4], p8 = p[6];
          const bool removable = pass == 0 ? (p2 * p4 * p6 == 0 && p4 * p6 * p8 == 0)
                                           : (p2 * p4 * p8 == 0 && p2 * p6 * p8 == 0);
          if (removable) to_delete.emplace_back(x, y);
        }
      }
      for (const auto& q : to_delete) img.at<uchar>(q) = 0;
      changed = changed || !to_delete.empty();
    }
  }
  return img(cv::Rect(1, 1, binary.cols, binary.rows)) * 255;
}

std::vector<cv::Point> centreline_path(const cv::Mat& binary) {
  const cv::Mat skeleton = thin_zhang_suen(binary);
  if (skeleton.empty()) return {};
  cv::Mat labels, stats, centroids;
  const int count = cv::connectedComponentsWithStats(skeleton, labels, stats, centroids, 8, CV_32S);
  int largest = 0, largest_area = 0;
  for (int label = 1; label < count; ++label)
    if (stats.at<int>(label, cv::CC_STAT_AREA) > largest_area)
      largest = label, largest_area = stats.at<int>(label, cv::CC_STAT_AREA);
  if (largest == 0) return {};

  // Breadth-first search over the component's 8-connected pixels; returns the last
  // (farthest) pixel reached and fills `parent` (index = y·cols + x, −1 = none).
  std::vector<int> parent(labels.total());
  auto bfs = [&](cv::Point start) {
    std::fill(parent.begin(), parent.end(), -2);  // −2 = unvisited
    std::deque<cv::Point> queue{start};
    parent[start.y * labels.cols + start.x] = -1;
    cv::Point last = start;
    while (!queue.empty()) {
      last = queue.front();
      queue.pop_front();
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const cv::Point q(last.x + dx, last.y + dy);
          if (q.x < 0 || q.y < 0 || q.x >= labels.cols || q.y >= labels.rows) continue;
          const int id = q.y * labels.cols + q.x;
          if (parent[id] != -2 || labels.at<int>(q) != largest) continue;
          parent[id] = last.y * labels.cols + last.x;
          queue.push_back(q);
        }
    }
    return last;
  };
  cv::Point start(stats.at<int>(largest, cv::CC_STAT_LEFT), stats.at<int>(largest, cv::CC_STAT_TOP));
  while (labels.at<int>(start) != largest) ++start.x;  // first component pixel of its top row
  const cv::Point end_a = bfs(start);
  const cv::Point end_b = bfs(end_a);

  std::vector<cv::Point> path;
  for (int id = end_b.y * labels.cols + end_b.x; id >= 0; id = parent[id])
    path.emplace_back(id % labels.cols, id / labels.cols);
  std::reverse(path.begin(), path.end());  // end_a → end_b
  return path;
}

// ---------------------------------------------------------------- polyline rules

double px_per_mm(cv::Size original) {
  return (original.width / c::kFilmWidthMm + original.height / c::kFilmHeightMm) / 2.0;
}

double dp_tolerance_mm(std::string_view contour_class) {
  static constexpr std::pair<std::string_view, double> kToleranceMm[] = {
      {"mandibular_symphysis", 0.5}, {"mandibular_border", 1.0},  {"cranial_base", 2.0},
      {"palatal_plane", 1.0},        {"upper_incisor_axis", 0.5}, {"lower_incisor_axis", 0.5}};
  for (const auto& [name, tolerance] : kToleranceMm)
    if (name == contour_class) return tolerance;
  return 1.0;  // not a spec class; a middle value
}

Polyline douglas_peucker(const Polyline& line, double epsilon) {
  if (line.size() < 3) return line;
  // float32 points, as the reference hands cv2.approxPolyDP.
  std::vector<cv::Point2f> in(line.begin(), line.end()), out;
  cv::approxPolyDP(in, out, epsilon, /*closed=*/false);
  return Polyline(out.begin(), out.end());
}

Polyline orient_toward(Polyline line, cv::Point2d ref) {
  if (line.size() >= 2 && cv::norm(line.front() - ref) < cv::norm(line.back() - ref))
    std::reverse(line.begin(), line.end());
  return line;
}

namespace {

// Arc-length fraction of every vertex (0 at the first, 1 at the last).
std::vector<double> arc_fractions(const Polyline& line) {
  std::vector<double> f(line.size(), 0.0);
  for (size_t i = 1; i < line.size(); ++i) f[i] = f[i - 1] + cv::norm(line[i] - line[i - 1]);
  const double total = f.empty() ? 0.0 : f.back();
  if (total > 0)
    for (double& v : f) v /= total;
  return f;
}

size_t nearest_fraction(const std::vector<double>& fractions, double target) {
  size_t best = 0;
  for (size_t i = 1; i < fractions.size(); ++i)
    if (std::abs(fractions[i] - target) < std::abs(fractions[best] - target)) best = i;
  return best;
}

double cross(cv::Point2d a, cv::Point2d b) { return a.x * b.y - a.y * b.x; }

}  // namespace

std::optional<cv::Point2d> chord_window_vertex(const Polyline& line, double a, double b) {
  if (line.empty()) return std::nullopt;
  const std::vector<double> f = arc_fractions(line);
  const cv::Point2d chord = line.back() - line.front();
  const double chord_length = cv::norm(chord);
  auto distance = [&](cv::Point2d p) {
    const cv::Point2d v = p - line.front();
    return chord_length > 0 ? std::abs(cross(chord, v)) / chord_length : cv::norm(v);
  };
  std::optional<size_t> best;
  for (size_t i = 0; i < line.size(); ++i)
    if (f[i] >= a && f[i] <= b && (!best || distance(line[i]) > distance(line[*best]))) best = i;
  return line[best.value_or(nearest_fraction(f, (a + b) / 2))];
}

std::optional<cv::Point2d> curvature_window_vertex(const Polyline& line, double a, double b) {
  if (line.empty()) return std::nullopt;
  const std::vector<double> f = arc_fractions(line);
  auto turning = [&](size_t i) {
    const cv::Point2d in = line[i] - line[i - 1], out = line[i + 1] - line[i];
    return std::atan2(std::abs(cross(in, out)), in.dot(out));
  };
  std::optional<size_t> best;
  for (size_t i = 1; i + 1 < line.size(); ++i)
    if (f[i] >= a && f[i] <= b && (!best || turning(i) > turning(*best))) best = i;
  return line[best.value_or(nearest_fraction(f, (a + b) / 2))];
}

Polyline class_polyline(const ClassContour& contour, ContourMode mode, double scale_x,
                        double scale_y) {
  const std::vector<cv::Point> points =
      mode == ContourMode::Reference ? contour.contour512 : centreline_path(contour.mask512);
  Polyline line;
  line.reserve(points.size());
  for (const auto& p : points) line.emplace_back(p.x * scale_x, p.y * scale_y);
  return line;
}

// ---------------------------------------------------------------- anchors

namespace {

// Position of a canonical landmark in ANCHORS_7.
int anchor_slot(int canonical) {
  const auto& order = anchor_indices();
  return static_cast<int>(std::find(order.begin(), order.end(), canonical) - order.begin());
}

}  // namespace

int Anchors::found() const {
  return static_cast<int>(std::count_if(points.begin(), points.end(),
                                        [](const auto& p) { return p.has_value(); }));
}

std::vector<std::string> Anchors::missing() const {
  std::vector<std::string> names;
  for (int i = 0; i < kNumAnchors; ++i)
    if (!points[i]) names.emplace_back(canonical_landmarks()[anchor_indices()[i]].name);
  return names;
}

Anchors extract_anchors(const std::map<std::string, Polyline, std::less<>>& polylines,
                        const AnchorReferences& refs, cv::Size original) {
  Anchors anchors;
  auto set = [&](int canonical, std::optional<cv::Point2d> p) {
    anchors.points[anchor_slot(canonical)] = p;
  };
  const double ppm = px_per_mm(original);
  auto simplified = [&](std::string_view name) -> Polyline {
    const auto it = polylines.find(name);
    if (it == polylines.end()) return {};
    return douglas_peucker(it->second, std::max(c::kMinDpEpsilon, dp_tolerance_mm(name) * ppm));
  };

  set(lm::Prn, refs.prn);

  if (Polyline cranial = simplified("cranial_base"); cranial.size() >= 3 && refs.nose_tip) {
    cranial = orient_toward(std::move(cranial), *refs.nose_tip);
    set(lm::N, cranial.back());
    set(lm::S, chord_window_vertex(cranial, c::kSellaWindowLo, c::kSellaWindowHi));
  } else if (cranial.size() >= 2 && !refs.nose_tip) {
    set(lm::N, cranial.back());
  }

  if (Polyline symphysis = simplified("mandibular_symphysis");
      symphysis.size() >= 3 && refs.chin_bottom) {
    symphysis = orient_toward(std::move(symphysis), *refs.chin_bottom);
    set(lm::Me, symphysis.back());
    set(lm::Pog, chord_window_vertex(symphysis, c::kPogonionWindowLo, c::kPogonionWindowHi));
  }

  if (Polyline palatal = simplified("palatal_plane"); palatal.size() >= 2 && refs.nose_tip)
    set(lm::ANS, orient_toward(std::move(palatal), *refs.nose_tip).back());

  if (Polyline border = simplified("mandibular_border"); border.size() >= 5 && refs.chin_bottom) {
    border = orient_toward(std::move(border), *refs.chin_bottom);
    set(lm::Go, curvature_window_vertex(border, c::kGonionWindowLo, c::kGonionWindowHi));
  }
  return anchors;
}

}  // namespace cephtrace::stage0
