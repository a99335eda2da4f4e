#include "pipeline/plausibility.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "cephtrace/landmarks.hpp"

namespace cephtrace {
namespace {

// Adult and child S-N lengths lie around 60-80 mm; these bounds are far outside that, so
// only a result that cannot be a skull trips them.
constexpr double kMinSellaNasionMm = 40.0, kMaxSellaNasionMm = 110.0;
// Without a pixel spacing: S-N as a fraction of the longer image side (about 0.3 on ISBI
// films); again far outside anything a cephalogram shows.
constexpr double kMinSellaNasionFraction = 0.05, kMaxSellaNasionFraction = 0.8;

std::string number(double v) {
  std::ostringstream os;
  os.precision(3);
  os << v;
  return os.str();
}

}  // namespace

std::vector<std::string> model_output_problems(const PredictionResult& r) {
  std::vector<std::string> problems;
  if (r.landmarks.empty()) return problems;
  bool finite = true;
  double lo = r.landmarks.front().peak, hi = lo;
  size_t stage1_count = 0;
  for (const auto& l : r.landmarks) {
    finite = finite && std::isfinite(l.x) && std::isfinite(l.y) && std::isfinite(l.peak);
    if (l.extended) continue;  // another model's peaks: they would hide a flat Stage 1
    ++stage1_count;
    finite = finite && std::isfinite(l.x) && std::isfinite(l.y) && std::isfinite(l.peak);
    lo = std::min(lo, l.peak);
    hi = std::max(hi, l.peak);
  }
  if (!finite) problems.push_back("model output contains NaN or infinite values");
  else if (stage1_count > 1 && hi - lo < 1e-6)
    problems.push_back("Stage 1 output is flat: every heatmap peaks at " + number(hi));
  // A flat Stage 2 output moves every landmark to the same spot of its patch.
  bool moved = false, all_refined = true;
  double rlo = 1e300, rhi = -1e300;
  for (const auto& l : r.landmarks) {
    if (l.extended) continue;  // Stage 2 refines the 25 only
    if (!l.refinement) {
      all_refined = false;
      break;
    }
    moved = moved || l.refinement->applied;
    rlo = std::min(rlo, l.refinement->peak);
    rhi = std::max(rhi, l.refinement->peak);
  }
  if (all_refined && !std::isfinite(rlo + rhi))
    problems.push_back("Stage 2 output contains NaN or infinite values");
  else if (all_refined && moved && rhi - rlo < 1e-6)
    problems.push_back("Stage 2 output is flat: every refinement heatmap peaks at " + number(rhi));
  return problems;
}

std::vector<std::string> anatomy_problems(const PredictionResult& r) {
  std::vector<std::string> problems;
  auto trusted = [&](int i) -> const LandmarkPrediction* {
    if (i >= static_cast<int>(r.landmarks.size())) return nullptr;
    const auto& l = r.landmarks[i];
    return l.confidence == "low" ? nullptr : &l;
  };
  const auto *s = trusted(lm::S), *n = trusted(lm::N), *me = trusted(lm::Me),
             *u1 = trusted(lm::U1_tip);
  if (s && n) {
    const double px = std::hypot(s->x - n->x, s->y - n->y);
    if (r.pixel_spacing_mm) {
      const double mm = px * *r.pixel_spacing_mm;
      if (mm < kMinSellaNasionMm || mm > kMaxSellaNasionMm)
        problems.push_back("S-N length " + number(mm) + " mm is outside the human range (" +
                           number(kMinSellaNasionMm) + "-" + number(kMaxSellaNasionMm) + " mm)");
    } else {
      const double fraction = px / std::max(r.original_width, r.original_height);
      if (fraction < kMinSellaNasionFraction || fraction > kMaxSellaNasionFraction)
        problems.push_back("S-N length is " + number(fraction) +
                           " of the image's longer side, outside what a cephalogram shows (" +
                           number(kMinSellaNasionFraction) + "-" + number(kMaxSellaNasionFraction) + ")");
    }
    // The face looks towards the side the result reports: N is in front of S.
    const double forward = r.orientation == Orientation::FacingLeft ? -1.0 : 1.0;
    if ((n->x - s->x) * forward <= 0)
      problems.push_back("N is not in front of S for a face looking " +
                         std::string(orientation_name(r.orientation)));
  }
  if (me && n && me->y <= n->y) problems.push_back("Me is not below N");
  if (me && s && me->y <= s->y) problems.push_back("Me is not below S");
  if (u1 && n && me && !(u1->y > n->y && u1->y < me->y))
    problems.push_back("U1_tip is not between N and Me vertically");
  return problems;
}

void check_plausibility(PredictionResult& r) {
  auto problems = model_output_problems(r);
  // A broken output says nothing about anatomy: judged only when the output looks real.
  if (problems.empty()) problems = anatomy_problems(r);
  if (problems.empty()) return;
  r.degraded = true;
  r.degraded_reasons.insert(r.degraded_reasons.end(), problems.begin(), problems.end());
  // Which landmarks are wrong is unknown, so none of them may claim to be reliable.
  for (auto& l : r.landmarks) l.confidence = "low";
}

}  // namespace cephtrace
