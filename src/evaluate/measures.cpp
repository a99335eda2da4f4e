// Clinical measures from predicted vs true landmarks: the error a clinician sees. The measures
// themselves are analyze()'s (src/analysis): this file only pairs and summarises them.
#include <cmath>
#include <sstream>

#include "evaluate/internal.hpp"

namespace cephtrace::detail {

namespace {

OriginalImageLandmarks landmark_set(const std::vector<NamedPoint>& points, double mm_per_px) {
  GroundTruth g;
  g.landmarks = points;
  g.pixel_spacing_mm = mm_per_px;
  return landmarks_from_ground_truth(g);  // canonical and extended names; others are not used
}

}  // namespace

AnalyzedImage analyze_pair(const GroundTruth& truth, const PredictedImage& prediction, double mm_per_px) {
  AnalysisOptions o;
  o.pixel_spacing_mm = mm_per_px;  // lengths in mm, so every measure is compared with its norm
  // A prediction read back from JSON keeps no confidence flags: every predicted landmark counts.
  return {truth.stem, analyze(landmark_set(truth.landmarks, mm_per_px), o),
          analyze(landmark_set(prediction.landmarks, mm_per_px), o)};
}

void compare_measures(const std::vector<AnalyzedImage>& images, EvaluationReport& report) {
  for (const auto key_view : measurement_keys()) {
    const std::string key(key_view);
    MeasureComparison c;
    c.key = key;
    std::vector<double> abs_errors;
    double signed_sum = 0;
    for (const auto& image : images) {
      const Measurement* t = image.truth.find(key);
      const Measurement* p = image.prediction.find(key);
      if (!t) {
        if (const auto* u = image.truth.find_unavailable(key); u && c.analysis.empty()) c.analysis = u->analysis;
        ++c.missing_in_truth;
        continue;
      }
      c.analysis = t->analysis;
      c.unit = t->unit;
      if (!p) {
        ++c.missing_in_prediction;
        continue;
      }
      const double error = p->value - t->value;
      abs_errors.push_back(std::abs(error));
      signed_sum += error;
      // Both values are in mm or degrees (the scale is known), so both have an interpretation.
      if (t->interpretation == p->interpretation) ++c.same_interpretation;
      ++c.interpretations[t->interpretation][p->interpretation];
      report.measure_observations.push_back({image.stem, key, t->value, p->value});
    }
    c.abs_error = compute_error_stats(abs_errors, {});
    c.bias = abs_errors.empty() ? 0 : signed_sum / static_cast<double>(abs_errors.size());
    report.measures.push_back(std::move(c));
  }
}

nlohmann::json measures_json(const EvaluationReport& r) {
  auto list = nlohmann::json::array();
  for (const auto& m : r.measures) {
    const auto& s = m.abs_error;
    list.push_back({{"key", m.key},
                    {"analysis", m.analysis},
                    {"unit", m.unit},
                    {"n", s.n},
                    {"mean_abs_error", s.mre},
                    {"sd_abs_error", s.sd},
                    {"median_abs_error", s.median},
                    {"p95_abs_error", s.p95},
                    {"bias", m.bias},
                    {"missing_in_truth", m.missing_in_truth},
                    {"missing_in_prediction", m.missing_in_prediction},
                    {"same_interpretation", m.same_interpretation},
                    {"same_interpretation_rate", s.n ? static_cast<double>(m.same_interpretation) / s.n : 0.0},
                    {"interpretations_truth_to_prediction", m.interpretations}});
  }
  return list;
}

}  // namespace cephtrace::detail

namespace cephtrace {

std::string measures_markdown(const EvaluationReport& r) {
  using detail::format_number;
  std::ostringstream md;
  md << "\n#### Clinical measures: from predicted vs true landmarks\n\n"
     << "Error = measure from the predicted landmarks - the same measure from the ground truth, on "
        "the images where both give it (n). Same reading: both fall in the same band of the norm "
        "(below -1 SD / within / above +1 SD; docs/analyses.md).\n\n"
     << "| analysis | measure | unit | n | mean abs error | median | p95 | bias | same reading |\n"
     << "|---|---|---|---:|---:|---:|---:|---:|---:|\n";
  size_t pairs = 0, same = 0;
  for (const auto& m : r.measures) {
    const auto& s = m.abs_error;
    md << "| " << m.analysis << " | " << m.key << " | " << (m.unit.empty() ? "-" : m.unit) << " | " << s.n << " | ";
    if (s.n == 0) {
      md << "- | - | - | - | - |\n";
      continue;
    }
    md << format_number(s.mre, 2) << " | " << format_number(s.median, 2) << " | " << format_number(s.p95, 2)
       << " | " << format_number(m.bias, 2) << " | " << format_number(100.0 * m.same_interpretation / s.n, 1)
       << " % (" << m.same_interpretation << "/" << s.n << ") |\n";
    pairs += s.n;
    same += m.same_interpretation;
  }
  if (pairs)
    md << "\nOver all measures and images: the same clinical reading in " << same << " of " << pairs << " ("
       << format_number(100.0 * same / pairs, 1) << " %).\n";
  for (const auto& m : r.measures) {
    if (m.key != "ANB" || m.abs_error.n == 0) continue;  // the skeletal class, read first
    md << "\nANB reading, ground truth (rows) vs prediction (columns):\n\n| truth \\ prediction |";
    std::map<std::string, size_t> columns;
    for (const auto& [t, row] : m.interpretations)
      for (const auto& [p, count] : row) columns[p] += count;
    for (const auto& [p, count] : columns) md << " " << p << " |";
    md << "\n|---|";
    for (size_t i = 0; i < columns.size(); ++i) md << "---:|";
    md << "\n";
    for (const auto& [t, row] : m.interpretations) {
      md << "| " << t << " |";
      for (const auto& [p, count] : columns) {
        const auto it = row.find(p);
        md << " " << (it == row.end() ? 0 : it->second) << " |";
      }
      md << "\n";
    }
  }
  size_t missing_truth = 0, missing_prediction = 0;
  for (const auto& m : r.measures) missing_truth += m.missing_in_truth, missing_prediction += m.missing_in_prediction;
  if (missing_truth || missing_prediction)
    md << "\nNot compared (measure x image): " << missing_truth << " where the ground truth lacks a landmark, "
       << missing_prediction << " where only the prediction does.\n";
  return md.str();
}

}  // namespace cephtrace
