#include "pipeline/confidence.hpp"

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/onnx_model.hpp"

namespace cephtrace {

namespace {
constexpr const char* kFeatures[] = {"bias", "stage1_peak", "stage2_peak", "log1p_moved_grid_px",
                                     "log1p_spread_grid_px"};
}

ConfidenceModel ConfidenceModel::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw ModelError(file.string() + ": cannot read the confidence calibration");
  ConfidenceModel m;
  try {
    const auto j = nlohmann::json::parse(in);
    const auto& features = j.at("features");
    if (features.size() != std::size(kFeatures)) throw std::runtime_error("expected 5 features");
    for (size_t i = 0; i < std::size(kFeatures); ++i)
      if (features[i].get<std::string>() != kFeatures[i])
        throw std::runtime_error(std::string("feature ") + std::to_string(i) + " must be " + kFeatures[i]);
    m.weights_ = j.at("weights").get<std::vector<double>>();
    if (m.weights_.size() != features.size()) throw std::runtime_error("one weight per feature");
    for (const auto& [name, offset] : j.at("landmark_offsets").items())
      m.offsets_.emplace_back(name, offset.get<double>());
    m.low_at_ = j.at("low_at").get<double>();
    m.medium_at_ = j.at("medium_at").get<double>();
    m.target_ = j.value("target", "");
    for (double w : m.weights_)
      if (!std::isfinite(w)) throw std::runtime_error("non-finite weight");
    if (!(m.medium_at_ > 0 && m.medium_at_ <= m.low_at_ && m.low_at_ < 1))
      throw std::runtime_error("need 0 < medium_at <= low_at < 1");
  } catch (const std::exception& e) {
    throw ModelError(file.string() + ": invalid confidence calibration: " + e.what());
  }
  return m;
}

double ConfidenceModel::miss_probability(const LandmarkPrediction& l) const {
  const auto& r = *l.refinement;
  const double f[] = {1.0, l.peak, r.peak, std::log1p(r.moved_grid_px), std::log1p(r.spread_grid_px)};
  double logit = 0;
  for (size_t i = 0; i < weights_.size(); ++i) logit += weights_[i] * f[i];
  for (const auto& [name, offset] : offsets_)
    if (name == l.name) logit += offset;
  return 1.0 / (1.0 + std::exp(-logit));
}

void ConfidenceModel::apply(PredictionResult& result) const {
  for (auto& l : result.landmarks) {
    if (!l.refinement) continue;
    const double miss = miss_probability(l);
    l.confidence_score = 1.0 - miss;
    l.confidence = miss >= low_at_ ? "low" : miss >= medium_at_ ? "medium" : "high";
  }
  result.confidence_method = "calibrated";
}

}  // namespace cephtrace
