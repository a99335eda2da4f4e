// The ISBI 2015 literature protocol and the senior-vs-alternate inter-observer comparison.
#include <optional>
#include <algorithm>
#include <cmath>
#include <sstream>

#include "cephtrace/constants.hpp"
#include "cephtrace/evaluate.hpp"
#include "evaluate/internal.hpp"

namespace cephtrace {

namespace fs = std::filesystem;
using detail::format_number;

IdSelection isbi_split(IsbiSplit split) {
  switch (split) {
    case IsbiSplit::Train: return IdSelection::range(1, 150);
    case IsbiSplit::Test1: return IdSelection::range(151, 300);
    // Images 038 = 283 and 144 = 173 byte for byte: Test1 is also reported without them.
    case IsbiSplit::Test1Dedup: return IdSelection::range(151, 300).exclude("173").exclude("283");
    case IsbiSplit::Test2: return IdSelection::range(301, 400);
    case IsbiSplit::Test: return IdSelection::range(151, 400);
  }
  return {};
}

namespace {

constexpr int kIsbiWidth = 1935, kIsbiHeight = 2400;
// The CL-2023 landmarks beyond ISBI's 19: five canonical ones, then EXTENDED_14 (scored when
// the predictions have them, i.e. when the extended model ran).
const std::vector<std::string> kClExtras = [] {
  std::vector<std::string> names{"Ba", "Co", "U1_root", "L1_root", "Prn"};
  for (const auto& e : extended_landmarks()) names.emplace_back(e.name);
  return names;
}();

IdSelection test1() { return isbi_split(IsbiSplit::Test1); }
IdSelection test1_dedup() { return isbi_split(IsbiSplit::Test1Dedup); }
IdSelection test2() { return isbi_split(IsbiSplit::Test2); }
IdSelection train() { return isbi_split(IsbiSplit::Train); }

ImportOptions isbi_import_options() {
  ImportOptions o;
  o.pixel_spacing_mm = constants::kIsbiPixelSpacingMm;
  o.image_size = [](const std::string&) { return std::optional<std::pair<int, int>>({kIsbiWidth, kIsbiHeight}); };
  return o;
}

void collect(const ImportResult& r, std::vector<std::string>& problems) {
  for (const auto& issue : r.issues) problems.push_back(describe(issue));
}

std::vector<GroundTruth> select(const std::vector<GroundTruth>& all, const IdSelection& ids) {
  std::vector<GroundTruth> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out), [&](const GroundTruth& g) { return ids.contains(g.stem); });
  return out;
}

EvaluationReport run(const std::vector<GroundTruth>& gt, const std::vector<PredictedImage>& preds,
                     const IsbiProtocolOptions& o, std::vector<std::string> landmarks, std::string title,
                     bool measures = false) {
  EvaluationOptions eo;
  eo.sdr_thresholds_mm = o.sdr_thresholds_mm;
  eo.scale_mode = ScaleMode::Recorded;  // every record carries 0.1 mm/pixel
  eo.landmarks = std::move(landmarks);
  eo.bootstrap_resamples = o.bootstrap_resamples;
  eo.bootstrap_seed = o.bootstrap_seed;
  eo.measures = measures;
  auto report = evaluate(gt, preds, eo);
  report.title = std::move(title);
  return report;
}

// Index of the 2 mm threshold (the literature's headline SDR), else the first one.
size_t sdr2_index(const std::vector<double>& thresholds) {
  for (size_t i = 0; i < thresholds.size(); ++i)
    if (std::abs(thresholds[i] - 2.0) < 1e-9) return i;
  return 0;
}

// Cells of an empty set read "-", never a misleading 0.00.
std::string pct(const ErrorStats& s, size_t i) {
  return s.n && i < s.sdr.size() ? format_number(100.0 * s.sdr[i], 1) + " %" : "-";
}
std::string mm(const ErrorStats& s, double v) { return s.n ? format_number(v, 2) : "-"; }

const LandmarkReport* landmark_report(const EvaluationReport& r, const std::string& name) {
  for (const auto& l : r.landmarks)
    if (l.name == name) return &l;
  return nullptr;
}

const ErrorStats* landmark_stats(const EvaluationReport& r, const std::string& name) {
  const LandmarkReport* l = landmark_report(r, name);
  return l ? &l->stats : nullptr;
}

// "x, y" mean signed error in mm, or "-".
std::string bias_cell(const LandmarkReport* l) {
  if (!l || l->stats.n == 0) return "-";
  return format_number(l->bias_x_mm, 2) + ", " + format_number(l->bias_y_mm, 2);
}

size_t scored_images(const EvaluationReport& r) {
  return static_cast<size_t>(std::count_if(r.images.begin(), r.images.end(), [](const ImageOutcome& i) { return i.scored; }));
}

// One row per subset: images, MRE ± SD, CI, SDR at every threshold.
void summary_table(std::ostringstream& md, const std::vector<const EvaluationReport*>& reports,
                   const std::vector<double>& thresholds) {
  md << "| set | images | n | MRE ± SD (mm) | MRE 95 % CI | median | p95 |";
  for (double t : thresholds) md << " SDR " << format_number(t, 1) << " mm |";
  md << "\n|---|---:|---:|---:|---:|---:|---:|";
  for (size_t i = 0; i < thresholds.size(); ++i) md << "---:|";
  md << "\n";
  for (const auto* r : reports) {
    const auto& s = r->overall;
    md << "| " << r->title << " | " << scored_images(*r) << " | " << s.n << " | " << mm(s, s.mre) << " ± "
       << mm(s, s.sd) << " | " << mm(s, r->mre_ci.low) << "-" << mm(s, r->mre_ci.high) << " | " << mm(s, s.median)
       << " | " << mm(s, s.p95) << " |";
    for (size_t i = 0; i < thresholds.size(); ++i) md << " " << pct(s, i) << " |";
    md << "\n";
  }
}

void problems_note(std::ostringstream& md, const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  md << "\nImport notes (" << problems.size() << "):\n";
  for (size_t i = 0; i < problems.size() && i < 10; ++i) md << "- " << problems[i] << "\n";
  if (problems.size() > 10) md << "- ...\n";
}

}  // namespace

std::vector<GroundTruth> isbi_test_ground_truth(const fs::path& data_dir, std::vector<std::string>& problems) {
  const auto options = isbi_import_options();
  const fs::path senior = data_dir / "annotations" / "senior";
  std::vector<GroundTruth> gt;
  for (const char* file : {"test1_senior.csv", "test2_senior.csv"}) {
    auto r = import_isbi_senior(senior / file, options);
    collect(r, problems);
    gt.insert(gt.end(), r.records.begin(), r.records.end());
  }
  const fs::path cl = data_dir / "annotations" / "cl2023";
  if (!fs::is_directory(cl)) {
    problems.push_back(cl.string() + ": not found; the CL-2023 extra landmarks are not evaluated");
    return gt;
  }
  auto extra = import_cl2023(cl, options);
  collect(extra, problems);
  for (auto& g : gt) {
    const auto it = std::find_if(extra.records.begin(), extra.records.end(), [&](const GroundTruth& e) { return e.stem == g.stem; });
    if (it == extra.records.end()) continue;
    for (const auto& name : kClExtras)
      if (const auto* p = it->find(name)) g.landmarks.push_back(*p);
    g.source += " + CL-Detection 2023 extras";
  }
  return gt;
}

IsbiProtocolReport run_isbi_protocol(const std::vector<PredictedImage>& predictions, const IsbiProtocolOptions& o) {
  IsbiProtocolReport r;
  r.method_name = o.method_name;
  const auto gt = isbi_test_ground_truth(o.data_dir, r.import_problems);
  const auto& isbi19 = isbi_landmark_names();
  r.test1 = run(select(gt, test1()), predictions, o, isbi19, "Test1 (151-300)", o.measures);
  r.test1_dedup = run(select(gt, test1_dedup()), predictions, o, isbi19, "Test1 without 173, 283 (duplicates of 144, 038)");
  r.test2 = run(select(gt, test2()), predictions, o, isbi19, "Test2 (301-400)", o.measures);
  // Extras only on the images that have CL-2023 labels.
  std::vector<GroundTruth> with_extras;
  for (const auto& g : gt)
    if (g.find("Ba") || g.find("Co") || g.find("Prn") || g.find("U1_root") || g.find("L1_root")) with_extras.push_back(g);
  r.extra_test1 = run(select(with_extras, test1()), predictions, o, kClExtras, "Test1, CL-2023 extra landmarks");
  r.extra_test2 = run(select(with_extras, test2()), predictions, o, kClExtras, "Test2, CL-2023 extra landmarks");
  return r;
}

std::string to_markdown(const IsbiProtocolReport& r) {
  std::ostringstream md;
  const auto& th = r.test1.thresholds_mm;
  const size_t i2 = sdr2_index(th);
  const std::string sdr_label = th.empty() ? "SDR" : "SDR " + format_number(th[i2], 0) + " mm";
  md << "## ISBI 2015 protocol: senior annotations, 0.1 mm/pixel, 19 landmarks\n\n";
  md << "| method | Test1 MRE | Test1 " << sdr_label << " | Test2 MRE | Test2 " << sdr_label << " |\n";
  md << "|---|---|---|---|---|\n";
  // Published numbers as cited in the data set's README (mm, 0.1 mm/pixel).
  const struct { const char* name; const char* t1; const char* s1; const char* t2; const char* s2; } published[] = {
      {"Lindner & Cootes 2015 (challenge winner, random forests)", "1.67", "74.9 %", "1.92", "66.1 %"},
      {"Chen et al. 2019 (attentive feature pyramid)", "1.17", "86.7 %", "1.48", "75.1 %"},
      {"Zhong et al. 2019 (attention-guided two-stage)", "1.12", "86.9 %", "1.42", "76.0 %"},
      {"Gilmour & Ray 2020 (foveated pyramid)", "1.01", "88.3 %", "1.33", "77.1 %"},
  };
  for (const auto& p : published)
    md << "| " << p.name << " | " << p.t1 << " | " << p.s1 << " | " << p.t2 << " | " << p.s2 << " |\n";
  md << "| **" << r.method_name << "** | **" << mm(r.test1.overall, r.test1.overall.mre) << "** | **"
     << pct(r.test1.overall, i2) << "** | **" << mm(r.test2.overall, r.test2.overall.mre) << "** | **"
     << pct(r.test2.overall, i2) << "** |\n\n";

  summary_table(md, {&r.test1, &r.test1_dedup, &r.test2}, th);

  md << "\nPer landmark (ISBI order; bias = mean signed error x, y in mm, image axes, x right and "
        "y down):\n\n| # | landmark | Test1 MRE | Test1 " << sdr_label << " | Test1 bias | Test2 MRE | Test2 "
     << sdr_label << " | Test2 bias |\n|---:|---|---:|---:|---:|---:|---:|---:|\n";
  const auto& isbi19 = isbi_landmark_names();
  for (size_t k = 0; k < isbi19.size(); ++k) {
    const auto* a = landmark_stats(r.test1, isbi19[k]);
    const auto* b = landmark_stats(r.test2, isbi19[k]);
    md << "| " << k + 1 << " | " << isbi19[k] << " | " << (a ? mm(*a, a->mre) : "-") << " | "
       << (a ? pct(*a, i2) : "-") << " | " << bias_cell(landmark_report(r.test1, isbi19[k])) << " | "
       << (b ? mm(*b, b->mre) : "-") << " | " << (b ? pct(*b, i2) : "-") << " | "
       << bias_cell(landmark_report(r.test2, isbi19[k])) << " |\n";
  }

  md << "\nCL-Detection 2023 extra landmarks (test images that have them; CL-2023 labels):\n\n"
     << "| landmark | Test1 n | Test1 MRE | Test1 " << sdr_label << " | Test2 n | Test2 MRE | Test2 " << sdr_label
     << " |\n|---|---:|---:|---:|---:|---:|---:|\n";
  // n, plus the labelled images the predictions had no such landmark for.
  auto cells = [&](const EvaluationReport& rep, const std::string& name) {
    for (const auto& l : rep.landmarks)
      if (l.name == name) {
        const std::string n = std::to_string(l.stats.n) + (l.unpredicted ? " (" + std::to_string(l.unpredicted) + " not predicted)" : "");
        if (l.stats.n == 0) return n + " | - | -";
        return n + " | " + format_number(l.stats.mre, 2) + " | " + pct(l.stats, i2);
      }
    return std::string("0 | - | -");
  };
  for (const auto& name : kClExtras)
    md << "| " << name << " | " << cells(r.extra_test1, name) << " | " << cells(r.extra_test2, name) << " |\n";
  // The extended landmarks pooled (every scored point weighs the same), when any was scored.
  auto pooled = [&](const EvaluationReport& rep) -> std::optional<std::string> {
    size_t n = 0;
    double sum = 0, within = 0;
    for (const auto& l : rep.landmarks)
      if (traced_index(l.name).value_or(0) >= kNumLandmarks && l.stats.n > 0) {
        n += l.stats.n;
        sum += l.stats.mre * double(l.stats.n);
        if (i2 < l.stats.sdr.size()) within += l.stats.sdr[i2] * double(l.stats.n);
      }
    if (n == 0) return std::nullopt;
    return std::to_string(n) + " | " + format_number(sum / double(n), 2) + " | " +
           format_number(100 * within / double(n), 1) + " %";
  };
  if (const auto a = pooled(r.extra_test1), b = pooled(r.extra_test2); a && b)
    md << "| **the 14 extended, pooled** | " << *a << " | " << *b << " |\n";
  size_t missing = 0;
  for (const auto* rep : {&r.test1, &r.test2})
    for (const auto& i : rep->images) missing += i.scored ? 0 : 1;
  if (missing) md << "\nTest images without a usable prediction (not scored): " << missing << "\n";
  for (const auto* rep : {&r.test1, &r.test2})
    if (!rep->measures.empty()) md << "\n### " << rep->title << "\n" << measures_markdown(*rep);
  problems_note(md, r.import_problems);
  return md.str();
}

nlohmann::json to_json(const IsbiProtocolReport& r) {
  return {{"protocol", "isbi2015"},
          {"method", r.method_name},
          {"pixel_spacing_mm", constants::kIsbiPixelSpacingMm},
          {"test1", to_json(r.test1)},
          {"test1_without_duplicates", to_json(r.test1_dedup)},
          {"test2", to_json(r.test2)},
          {"extra_test1", to_json(r.extra_test1)},
          {"extra_test2", to_json(r.extra_test2)},
          {"import_problems", r.import_problems}};
}

InterObserverReport run_isbi_interobserver(const IsbiProtocolOptions& o) {
  InterObserverReport r;
  const auto options = isbi_import_options();
  std::vector<GroundTruth> senior;
  for (const char* file : {"train_senior.csv", "test1_senior.csv", "test2_senior.csv"}) {
    auto s = import_isbi_senior(o.data_dir / "annotations" / "senior" / file, options);
    collect(s, r.import_problems);
    senior.insert(senior.end(), s.records.begin(), s.records.end());
  }
  auto alternate = import_isbi_alternate(o.data_dir / "annotations" / "alternate" / "points.csv", options);
  collect(alternate, r.import_problems);
  std::vector<PredictedImage> second;
  for (const auto& g : alternate.records) second.push_back(as_prediction(g));
  const auto& isbi19 = isbi_landmark_names();
  r.all = run(senior, second, o, isbi19, "All 400 images");
  r.train = run(select(senior, train()), second, o, isbi19, "Train (001-150)");
  r.test1 = run(select(senior, test1()), second, o, isbi19, "Test1 (151-300)", o.measures);
  r.test2 = run(select(senior, test2()), second, o, isbi19, "Test2 (301-400)");
  return r;
}

std::string to_markdown(const InterObserverReport& r) {
  std::ostringstream md;
  md << "## ISBI 2015 inter-observer difference: alternate vs senior annotations, 0.1 mm/pixel\n\n";
  summary_table(md, {&r.all, &r.train, &r.test1, &r.test2}, r.all.thresholds_mm);
  md << "\nPer landmark, all images (sorted by MRE, largest first):\n\n";
  EvaluationReport all = r.all;
  all.title.clear();
  md << to_markdown(all, true);
  if (!r.test1.measures.empty())  // the split the protocol's measure table is for
    md << "\n### " << r.test1.title << ": senior (truth) vs alternate (prediction)\n" << measures_markdown(r.test1);
  problems_note(md, r.import_problems);
  return md.str();
}

nlohmann::json to_json(const InterObserverReport& r) {
  return {{"protocol", "isbi2015-interobserver"},
          {"pixel_spacing_mm", constants::kIsbiPixelSpacingMm},
          {"all", to_json(r.all)},
          {"train", to_json(r.train)},
          {"test1", to_json(r.test1)},
          {"test2", to_json(r.test2)},
          {"import_problems", r.import_problems}};
}

}  // namespace cephtrace
