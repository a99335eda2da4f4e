// Scoring predictions against ground truth, and the JSON / Markdown reports.
#include "cephtrace/evaluate.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cephtrace/constants.hpp"
#include "cephtrace/landmarks.hpp"
#include "cephtrace/limits.hpp"
#include "evaluate/internal.hpp"

namespace cephtrace {

namespace fs = std::filesystem;
using detail::format_number;

// ---- Predictions ----------------------------------------------------------------------------

std::string PredictedImage::stem() const { return detail::stem_of(key); }

std::vector<PredictedImage> predictions_from_json(const nlohmann::json& j, const std::string& origin) {
  std::vector<PredictedImage> out;
  for (const auto& entry : read_predict_json(j, origin)) {
    // A single result is matched by its "source" (the image path), else by the file's own name.
    const std::string key = !entry.key.empty() ? entry.key : !entry.source.empty() ? entry.source : origin;
    out.push_back(as_prediction(entry.landmarks, key));
  }
  return out;
}

std::vector<PredictedImage> read_predictions_file(const fs::path& file) {
  nlohmann::json j;
  try {
    j = parse_json(read_file_limited(file), file.string());
  } catch (const std::exception& e) {
    throw GroundTruthError(e.what());
  }
  return predictions_from_json(j, file.string());
}

PredictedImage as_prediction(const GroundTruth& gt) {
  return {gt.stem, gt.landmarks, gt.pixel_spacing_mm};
}

PredictedImage as_prediction(const OriginalImageLandmarks& landmarks, const std::string& key) {
  PredictedImage p{key, {}, landmarks.pixel_spacing_mm};
  for (int i = 0; i < kNumTraced; ++i)
    if (const auto& point = landmarks.points[i])
      p.landmarks.push_back({std::string(landmark_name(i)), point->x, point->y});
  return p;
}

// ---- Selection ------------------------------------------------------------------------------

namespace {

std::optional<long> numeric_id(std::string_view s) {
  if (s.empty() || s.size() > 15 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  return std::stol(std::string(s));
}

}  // namespace

IdSelection IdSelection::range(long first, long last) {
  IdSelection s;
  s.ranges_.emplace_back(first, last);
  return s;
}

IdSelection IdSelection::parse(std::string_view spec) {
  IdSelection s;
  std::string token;
  auto flush = [&] {
    if (token.empty()) return;
    const auto dash = token.find('-');
    const auto a = numeric_id(token.substr(0, dash));
    const auto b = dash == std::string::npos ? a : numeric_id(token.substr(dash + 1));
    if (a && b) {
      const long first = *a, last = *b;
      if (last < first) throw std::invalid_argument("id range '" + token + "' ends before it starts");
      s.ranges_.push_back({first, last});
    } else {
      s.names_.push_back(detail::stem_of(token));
    }
    token.clear();
  };
  for (char c : spec) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c))) flush();
    else token += c;
  }
  flush();
  return s;
}

IdSelection IdSelection::from_list_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::invalid_argument(file.string() + ": cannot open id list");
  IdSelection s;
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    s.add(parse(line));
  }
  return s;
}

IdSelection& IdSelection::add(const IdSelection& other) {
  ranges_.insert(ranges_.end(), other.ranges_.begin(), other.ranges_.end());
  names_.insert(names_.end(), other.names_.begin(), other.names_.end());
  return *this;
}

IdSelection& IdSelection::exclude(std::string_view id) {
  excluded_.emplace_back(id);
  return *this;
}

bool IdSelection::contains(std::string_view stem) const {
  const auto num = numeric_id(stem);
  auto same = [&](const std::string& id) {
    const auto n = numeric_id(id);
    return num && n ? *num == *n : id == stem;
  };
  if (std::any_of(excluded_.begin(), excluded_.end(), same)) return false;
  if (num)
    for (const auto& [a, b] : ranges_)
      if (*num >= a && *num <= b) return true;
  return std::any_of(names_.begin(), names_.end(), same);
}

// ---- Evaluation -----------------------------------------------------------------------------

std::optional<ScaleMode> parse_scale_mode(std::string_view name) {
  if (name == "auto") return ScaleMode::Auto;
  if (name == "recorded") return ScaleMode::Recorded;
  if (name == "sn71") return ScaleMode::SellaNasion;
  return std::nullopt;
}

std::string_view scale_source_name(ScaleSource s) {
  switch (s) {
    case ScaleSource::CommandLine: return "pixel-spacing option";
    case ScaleSource::GroundTruth: return "ground-truth file";
    case ScaleSource::Prediction: return "image header (DICOM)";
    case ScaleSource::SellaNasion: return "S-N = 71 mm";
  }
  return "";
}

namespace {

// mm per pixel for one image, or the reason there is none.
struct Scale {
  double mm_per_px = 0;
  ScaleSource source{};
  std::string problem;
};

Scale choose_scale(const GroundTruth& gt, const PredictedImage& pred, const EvaluationOptions& o) {
  if (o.scale_mode != ScaleMode::SellaNasion) {
    if (o.pixel_spacing_mm) return {*o.pixel_spacing_mm, ScaleSource::CommandLine, {}};
    if (gt.pixel_spacing_mm) return {*gt.pixel_spacing_mm, ScaleSource::GroundTruth, {}};
    if (pred.pixel_spacing_mm) return {*pred.pixel_spacing_mm, ScaleSource::Prediction, {}};
    if (o.scale_mode == ScaleMode::Recorded) return {0, {}, "no pixel spacing known"};
  }
  const auto* s = gt.find("S");
  const auto* n = gt.find("N");
  if (!s || !n) return {0, {}, "ground truth lacks S or N for the S-N scale"};
  const double sn = std::hypot(s->x - n->x, s->y - n->y);
  if (sn <= 1.0) return {0, {}, "ground-truth |S-N| <= 1 px"};
  return {constants::kReferenceSellaNasionMm / sn, ScaleSource::SellaNasion, {}};
}

}  // namespace

EvaluationReport evaluate(const std::vector<GroundTruth>& ground_truth,
                          const std::vector<PredictedImage>& predictions, const EvaluationOptions& options) {
  check_bootstrap(options.bootstrap_resamples);  // memory grows with the resample count
  EvaluationReport report;
  report.thresholds_mm = options.sdr_thresholds_mm;

  std::map<std::string, const PredictedImage*> by_stem;
  for (const auto& p : predictions)
    if (!by_stem.emplace(p.stem(), &p).second)
      throw GroundTruthError("predictions: two results for image " + p.stem() + " (" + p.key + ")");
  std::set<std::string> gt_stems;
  for (const auto& gt : ground_truth) gt_stems.insert(gt.stem);
  for (const auto& [stem, p] : by_stem)
    if (!gt_stems.count(stem)) report.unmatched_predictions.push_back(p->key);

  const std::set<std::string> wanted(options.landmarks.begin(), options.landmarks.end());
  std::map<std::string, std::vector<double>> errors_by_landmark;
  std::map<std::string, std::array<double, 2>> offset_sum_by_landmark;  // signed x, y (mm)
  std::map<std::string, size_t> unpredicted_by_landmark;
  std::vector<std::vector<double>> errors_by_image;
  std::vector<detail::AnalyzedImage> analyzed;  // with options.measures
  for (const auto& gt : ground_truth) {
    ImageOutcome out;
    out.stem = gt.stem;
    const auto it = by_stem.find(gt.stem);
    if (it == by_stem.end()) {
      out.skip_reason = "no prediction";
      report.images.push_back(std::move(out));
      continue;
    }
    const PredictedImage& pred = *it->second;
    const Scale scale = choose_scale(gt, pred, options);
    if (!scale.problem.empty()) {
      out.skip_reason = scale.problem;
      report.images.push_back(std::move(out));
      continue;
    }
    out.scored = true;
    out.mm_per_px = scale.mm_per_px;
    out.scale_source = scale.source;
    if (options.measures) analyzed.push_back(detail::analyze_pair(gt, pred, scale.mm_per_px));
    std::vector<double> image_errors;
    for (const auto& g : gt.landmarks) {
      if (!wanted.empty() && !wanted.count(g.name)) continue;
      const auto p = std::find_if(pred.landmarks.begin(), pred.landmarks.end(),
                                  [&](const NamedPoint& q) { return q.name == g.name; });
      if (p == pred.landmarks.end()) {
        out.unpredicted.push_back(g.name);
        ++unpredicted_by_landmark[g.name];
        continue;
      }
      const double px = std::hypot(p->x - g.x, p->y - g.y);
      const double mm = px * scale.mm_per_px;
      image_errors.push_back(mm);
      errors_by_landmark[g.name].push_back(mm);
      auto& offset_sum = offset_sum_by_landmark[g.name];
      offset_sum[0] += (p->x - g.x) * scale.mm_per_px;
      offset_sum[1] += (p->y - g.y) * scale.mm_per_px;
      report.observations.push_back({gt.stem, g.name, px, mm});
    }
    out.n = image_errors.size();
    out.mre_mm = compute_error_stats(image_errors, {}).mre;
    if (!image_errors.empty()) errors_by_image.push_back(std::move(image_errors));
    report.images.push_back(std::move(out));
  }

  // Landmark order: the requested list, else traced order (canonical, extended), then other names
  // alphabetically.
  std::vector<std::string> names = options.landmarks;
  if (names.empty()) {
    std::set<std::string> all;
    for (const auto& [n, e] : errors_by_landmark) all.insert(n);
    for (const auto& [n, c] : unpredicted_by_landmark) all.insert(n);
    names.assign(all.begin(), all.end());
    std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      return traced_index(a).value_or(kNumTraced) < traced_index(b).value_or(kNumTraced);
    });
  }
  std::vector<double> all_errors;
  for (const auto& name : names) {
    const auto& e = errors_by_landmark[name];
    if (e.empty() && !unpredicted_by_landmark.count(name)) continue;  // not in this ground truth
    LandmarkReport l{name, compute_error_stats(e, options.sdr_thresholds_mm), unpredicted_by_landmark[name]};
    if (!e.empty()) {
      l.bias_x_mm = offset_sum_by_landmark[name][0] / e.size();
      l.bias_y_mm = offset_sum_by_landmark[name][1] / e.size();
    }
    report.landmarks.push_back(std::move(l));
    all_errors.insert(all_errors.end(), e.begin(), e.end());
  }
  report.overall = compute_error_stats(all_errors, options.sdr_thresholds_mm);
  report.mre_ci = bootstrap_mre_ci(errors_by_image, options.bootstrap_resamples, options.bootstrap_seed);
  if (options.measures) detail::compare_measures(analyzed, report);
  return report;
}

// ---- Reports --------------------------------------------------------------------------------

namespace {

std::string threshold_key(double t) { return format_number(t, 1); }

nlohmann::json stats_json(const ErrorStats& s, const std::vector<double>& thresholds) {
  nlohmann::json sdr = nlohmann::json::object();
  for (size_t t = 0; t < thresholds.size(); ++t) sdr[threshold_key(thresholds[t])] = s.sdr[t];
  return {{"n", s.n}, {"mre_mm", s.mre}, {"sd_mm", s.sd}, {"median_mm", s.median}, {"p95_mm", s.p95}, {"sdr", sdr}};
}

std::string percent(double fraction) { return format_number(100.0 * fraction, 1); }

// "0.1 mm/px (pixel-spacing option): 150 images" per distinct scale source.
std::string scale_summary(const EvaluationReport& r) {
  std::map<ScaleSource, std::vector<double>> by_source;
  for (const auto& i : r.images)
    if (i.scored) by_source[i.scale_source].push_back(i.mm_per_px);
  std::string out;
  for (const auto& [source, v] : by_source) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    out += out.empty() ? "" : "; ";
    out += (*lo == *hi ? format_number(*lo, 4) : format_number(*lo, 4) + "-" + format_number(*hi, 4)) +
           " mm/px from " + std::string(scale_source_name(source)) + " (" + std::to_string(v.size()) + " images)";
  }
  return out.empty() ? "no image scored" : out;
}

}  // namespace

nlohmann::json to_json(const EvaluationReport& r) {
  nlohmann::json j;
  j["title"] = r.title;
  j["sdr_thresholds_mm"] = r.thresholds_mm;
  j["sdr_rule"] = "error <= threshold";
  j["overall"] = stats_json(r.overall, r.thresholds_mm);
  j["overall"]["mre_ci"] = {{"low_mm", r.mre_ci.low}, {"high_mm", r.mre_ci.high}, {"level", r.mre_ci.level},
                            {"resamples", r.mre_ci.resamples}, {"seed", r.mre_ci.seed}, {"unit", "image"}};
  j["scale"] = scale_summary(r);
  auto& lms = j["landmarks"] = nlohmann::json::array();
  for (const auto& l : r.landmarks) {
    auto s = stats_json(l.stats, r.thresholds_mm);
    s["name"] = l.name;
    s["unpredicted"] = l.unpredicted;
    s["bias_mm"] = {{"x", l.bias_x_mm}, {"y", l.bias_y_mm}};
    lms.push_back(std::move(s));
  }
  auto& images = j["images"] = nlohmann::json::array();
  for (const auto& i : r.images) {
    nlohmann::json e{{"stem", i.stem}, {"scored", i.scored}};
    if (i.scored) {
      e["mm_per_px"] = i.mm_per_px;
      e["scale_source"] = scale_source_name(i.scale_source);
      e["n"] = i.n;
      e["mre_mm"] = i.mre_mm;
      if (!i.unpredicted.empty()) e["unpredicted"] = i.unpredicted;
    } else {
      e["skip_reason"] = i.skip_reason;
    }
    images.push_back(std::move(e));
  }
  j["unmatched_predictions"] = r.unmatched_predictions;
  auto& obs = j["observations"] = nlohmann::json::array();
  for (const auto& o : r.observations)
    obs.push_back({{"image", o.stem}, {"landmark", o.landmark}, {"error_px", o.error_px}, {"error_mm", o.error_mm}});
  if (!r.measures.empty()) {
    j["measures"] = detail::measures_json(r);
    auto& values = j["measure_observations"] = nlohmann::json::array();
    for (const auto& o : r.measure_observations)
      values.push_back({{"image", o.stem}, {"measure", o.key}, {"truth", o.truth}, {"prediction", o.prediction}});
  }
  return j;
}

std::string to_markdown(const EvaluationReport& r, bool sort_by_error) {
  std::ostringstream md;
  if (!r.title.empty()) md << "### " << r.title << "\n\n";
  md << "| landmark | n | MRE (mm) | SD | median | p95 |";
  for (double t : r.thresholds_mm) md << " SDR " << threshold_key(t) << " mm |";
  md << " bias x, y (mm) |\n|---|---:|---:|---:|---:|---:|";
  for (size_t t = 0; t < r.thresholds_mm.size(); ++t) md << "---:|";
  md << "---:|\n";
  auto row = [&](const std::string& name, const ErrorStats& s, const LandmarkReport* l) {
    md << "| " << name << " | " << s.n << " | " << format_number(s.mre, 2) << " | " << format_number(s.sd, 2)
       << " | " << format_number(s.median, 2) << " | " << format_number(s.p95, 2) << " |";
    for (double f : s.sdr) md << " " << percent(f) << " % |";
    if (l && s.n > 0)
      md << " " << format_number(l->bias_x_mm, 2) << ", " << format_number(l->bias_y_mm, 2) << " |";
    else
      md << "  |";
    md << "\n";
  };
  std::vector<const LandmarkReport*> rows;
  for (const auto& l : r.landmarks) rows.push_back(&l);
  if (sort_by_error)  // worst first: the landmarks that need attention lead the table
    std::stable_sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->stats.mre > b->stats.mre; });
  for (const auto* l : rows) row(l->name, l->stats, l);
  row("**all**", r.overall, nullptr);
  size_t scored = 0;
  std::vector<std::string> skipped;
  for (const auto& i : r.images) {
    if (i.scored) ++scored;
    else skipped.push_back(i.stem + " (" + i.skip_reason + ")");
  }
  md << "\nImages scored: " << scored << "; MRE 95 % CI " << format_number(r.mre_ci.low, 2) << "-"
     << format_number(r.mre_ci.high, 2) << " mm (bootstrap over images, " << r.mre_ci.resamples
     << " resamples, seed " << r.mre_ci.seed << "). SDR counts error <= threshold.\n";
  md << "Scale: " << scale_summary(r) << ".\n";
  if (!skipped.empty()) {
    md << "Skipped " << skipped.size() << ":";
    for (size_t i = 0; i < skipped.size() && i < 20; ++i) md << (i ? ", " : " ") << skipped[i];
    if (skipped.size() > 20) md << ", ...";
    md << "\n";
  }
  size_t unpredicted = 0;
  for (const auto& l : r.landmarks) unpredicted += l.unpredicted;
  if (unpredicted) md << "Ground-truth landmarks without a prediction (not scored): " << unpredicted << "\n";
  if (!r.unmatched_predictions.empty())
    md << "Predictions without ground truth: " << r.unmatched_predictions.size() << "\n";
  if (!r.measures.empty()) md << measures_markdown(r);
  return md.str();
}

}  // namespace cephtrace
