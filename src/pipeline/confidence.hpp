// Calibrated landmark confidence. Stage 1's heatmap peak (the reference's confidence) says
// little about the error once Stage 2 has refined a landmark: a film from another device can
// give confident peaks in the wrong place. When the model folder has
// stage2/confidence.json (written by tools/calibrate_confidence.py), a logistic model of the
// chance that a landmark is more than 3 mm off, from the Stage 1 and Stage 2 peaks, how far
// Stage 2 moved it and how far the Stage 2 ensemble members disagree, replaces the
// peak-based label: "low" marks the points a clinician should check.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cephtrace/result.hpp"

namespace cephtrace {

class ConfidenceModel {
 public:
  // Reads a confidence.json; throws ModelError naming the file when it is malformed.
  static ConfidenceModel load(const std::filesystem::path& file);

  // Chance (0-1) that the landmark is off by more than the model's threshold (3 mm).
  // Needs the landmark's Stage 2 refinement.
  double miss_probability(const LandmarkPrediction& landmark) const;
  // Sets confidence_score (1 - miss probability) and the label of every refined landmark.
  void apply(PredictionResult& result) const;

  const std::string& target() const { return target_; }

 private:
  std::vector<double> weights_;                  // bias, stage1 peak, stage2 peak, log1p moved, log1p spread
  std::vector<std::pair<std::string, double>> offsets_;  // per-landmark logit offsets
  double low_at_ = 0.5, medium_at_ = 0.2;        // miss probability at which a label drops
  std::string target_;
};

}  // namespace cephtrace
