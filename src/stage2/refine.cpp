// Stage 2 local refinement: patch extraction, model run and decoding (stage2.hpp).
#include "stage2/stage2.hpp"

#include <algorithm>
#include <cmath>
#include <future>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "cephtrace/constants.hpp"

namespace cephtrace {
namespace {
namespace k = constants;
}  // namespace

cv::Point2d RefineGrid::to_grid(cv::Point2d p) const {
  return {(p.x + 0.5) * sx - 0.5, (p.y + 0.5) * sy - 0.5};
}

cv::Point2d RefineGrid::to_original(cv::Point2d g) const {
  return {(g.x + 0.5) / sx - 0.5, (g.y + 0.5) / sy - 0.5};
}

RefineGrid make_refine_grid(const cv::Mat& grey) {
  if (grey.empty() || grey.type() != CV_8UC1)
    throw std::invalid_argument("make_refine_grid: expected a non-empty CV_8UC1 image");
  const double scale = k::kRefineGridExtent / std::sqrt(double(grey.cols) * grey.rows);
  const cv::Size size(std::max(1, int(std::lround(grey.cols * scale))),
                      std::max(1, int(std::lround(grey.rows * scale))));
  RefineGrid grid;
  // INTER_AREA averages when shrinking (no aliasing); it interpolates when enlarging.
  cv::resize(grey, grid.grey, size, 0, 0, cv::INTER_AREA);
  grid.sx = double(size.width) / grey.cols;
  grid.sy = double(size.height) / grey.rows;
  return grid;
}

cv::Point make_refine_patch(const cv::Mat& grid_grey, cv::Point2d centre, cv::Mat& out) {
  const int n = k::kRefinePatch;
  const cv::Point o(int(std::lround(centre.x)) - n / 2, int(std::lround(centre.y)) - n / 2);
  out.create(n, n, CV_32F);
  out.setTo(0);
  const cv::Rect inside = cv::Rect(o, cv::Size(n, n)) & cv::Rect(0, 0, grid_grey.cols, grid_grey.rows);
  if (!inside.empty()) {
    cv::Mat dst = out(inside - o);
    grid_grey(inside).convertTo(dst, CV_32F, 1.0 / 255.0);
  }
  cv::Scalar mean, sd;
  cv::meanStdDev(out, mean, sd);
  out.convertTo(out, CV_32F, 1.0 / (sd[0] + k::kRefineZscoreEpsilon),
                -mean[0] / (sd[0] + k::kRefineZscoreEpsilon));
  return o;
}

PatchPlan plan_patches(std::span<const cv::Point2d> positions, double share_radius) {
  const int count = static_cast<int>(positions.size());
  PatchPlan plan;
  plan.patch_of.assign(count, -1);
  auto chebyshev = [](cv::Point2d a, cv::Point2d b) { return std::max(std::abs(a.x - b.x), std::abs(a.y - b.y)); };
  for (int seed = 0; seed < count; ++seed) {
    if (plan.patch_of[seed] >= 0) continue;
    // Nearest first, so that a group gathers its seed's close neighbours before far ones.
    std::vector<int> order;
    for (int j = seed + 1; j < count; ++j)
      if (plan.patch_of[j] < 0) order.push_back(j);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return chebyshev(positions[a], positions[seed]) < chebyshev(positions[b], positions[seed]);
    });
    cv::Point2d lo = positions[seed], hi = positions[seed];
    const int patch = static_cast<int>(plan.centres.size());
    plan.patch_of[seed] = patch;
    for (int j : order) {
      const cv::Point2d nlo(std::min(lo.x, positions[j].x), std::min(lo.y, positions[j].y));
      const cv::Point2d nhi(std::max(hi.x, positions[j].x), std::max(hi.y, positions[j].y));
      if (nhi.x - nlo.x > 2 * share_radius || nhi.y - nlo.y > 2 * share_radius) continue;
      lo = nlo, hi = nhi;
      plan.patch_of[j] = patch;
    }
    plan.centres.push_back((lo + hi) * 0.5);
  }
  return plan;
}

std::vector<RefinedLandmark> refine_landmarks(std::span<OnnxModel> models, const RefineGrid& grid,
                                              std::span<const cv::Point2d> start, Decoder decoder,
                                              int passes, int patches_per_forward, double share_radius,
                                              double repass_min_move, bool parallel_models) {
  const int count_all = static_cast<int>(start.size());
  if (models.empty()) throw std::invalid_argument("refine_landmarks: no refinement model");
  if (count_all < 1) throw std::invalid_argument("refine_landmarks: no landmark to refine");
  if (patches_per_forward < 1 || patches_per_forward > count_all)
    throw std::invalid_argument("refine_landmarks: patches_per_forward must be 1 to " + std::to_string(count_all));
  const int n = k::kRefinePatch, hm = k::kRefineHeatmap;
  std::vector<cv::Point2d> current(count_all);
  for (int i = 0; i < count_all; ++i) current[i] = grid.to_grid(start[i]);
  std::vector<double> peaks(count_all), spread(count_all);
  std::vector<std::vector<cv::Point2d>> member(models.size(), std::vector<cv::Point2d>(count_all));
  std::vector<std::vector<double>> member_peak(models.size(), std::vector<double>(count_all));

  if (share_radius < 0) throw std::invalid_argument("refine_landmarks: share_radius must not be negative");
  if (!(repass_min_move >= 0)) throw std::invalid_argument("refine_landmarks: repass_min_move must not be negative");
  const double share = 1.0 / double(models.size());
  std::vector<int> active(count_all);  // the landmarks this pass refines
  std::iota(active.begin(), active.end(), 0);
  for (int pass = 0; pass < std::max(1, passes) && !active.empty(); ++pass) {
    const int count_active = static_cast<int>(active.size());
    std::vector<cv::Point2d> at(count_active);
    for (int j = 0; j < count_active; ++j) at[j] = current[active[j]];
    const PatchPlan plan = plan_patches(at, share_radius);
    const int patch_count = static_cast<int>(plan.centres.size());
    const int sizes[] = {patch_count, 1, n, n};
    cv::Mat blob(4, sizes, CV_32F);
    std::vector<cv::Point> origins(patch_count);
    for (int p = 0; p < patch_count; ++p) {
      cv::Mat plane(n, n, CV_32F, blob.ptr<float>(p, 0));  // a view: written in place
      origins[p] = make_refine_patch(grid.grey, plan.centres[p], plane);
    }
    // Each model decodes into its own row; the rows are summed in model order afterwards,
    // so the answer does not depend on which model finished first.
    auto run_model = [&](size_t m) {
      OnnxModel& model = models[m];
      for (int first = 0; first < patch_count; first += patches_per_forward) {
        const int count = std::min(patches_per_forward, patch_count - first);
        const int chunk_sizes[] = {count, 1, n, n};
        cv::Mat out = model.forward(cv::Mat(4, chunk_sizes, CV_32F, blob.ptr<float>(first)));
        const std::vector<int> shape(out.size.p, out.size.p + out.dims);
        if (out.type() != CV_32F || shape != std::vector<int>{count, count_all, hm, hm})
          throw ModelError(model.file().string() + ": refinement output has shape " +
                           shape_to_string(shape) + ", expected (" + std::to_string(count) + "," +
                           std::to_string(count_all) + ",64,64) float");
        if (!out.isContinuous()) out = out.clone();
        for (int a = 0; a < count_active; ++a) {
          // Each landmark is read from its own channel of the patch cut for its group.
          const int i = active[a], patch = plan.patch_of[a], j = patch - first;
          if (j < 0 || j >= count) continue;
          const HeatmapPeak p = decode_heatmap(cv::Mat(hm, hm, CV_32F, out.ptr<float>(j, i)), decoder);
          member[m][i] = cv::Point2d(origins[patch].x + k::kRefineStride * p.x + 0.5,
                                     origins[patch].y + k::kRefineStride * p.y + 0.5);
          member_peak[m][i] = p.peak;
        }
      }
    };
    // The ensemble's models run side by side, each on a thread of its own (a network is not
    // safe to share between threads; two are): OpenCV's thread pool leaves cores idle between
    // the small layers of one network, and the second fills them (Stage 2 about 20 % faster
    // with 2 models on 2 cores, docs/benchmark.md).
    std::vector<std::future<void>> others;
    const size_t here = parallel_models ? 1 : models.size();  // models run on this thread
    for (size_t m = here; m < models.size(); ++m)
      others.push_back(std::async(std::launch::async, run_model, m));
    for (size_t m = 0; m < here; ++m) run_model(m);
    for (auto& f : others) f.get();
    std::vector<int> moved_enough;
    for (int i : active) {
      cv::Point2d sum;
      peaks[i] = 0;
      for (size_t m = 0; m < models.size(); ++m) {
        sum += member[m][i];
        peaks[i] += share * member_peak[m][i];
      }
      const cv::Point2d before = current[i];
      current[i] = sum * share;
      double sq = 0;
      for (const auto& positions : member) sq += share * std::pow(cv::norm(positions[i] - current[i]), 2);
      spread[i] = std::sqrt(sq);
      if (cv::norm(current[i] - before) >= repass_min_move) moved_enough.push_back(i);
    }
    active = std::move(moved_enough);
  }

  std::vector<RefinedLandmark> result(count_all);
  for (int i = 0; i < count_all; ++i) {
    result[i].peak = peaks[i];
    result[i].applied = peaks[i] >= k::kRefineMinPeak;
    result[i].moved_grid_px = cv::norm(current[i] - grid.to_grid(start[i]));
    result[i].spread_grid_px = spread[i];
    result[i].position = result[i].applied ? grid.to_original(current[i]) : start[i];
  }
  return result;
}

}  // namespace cephtrace
