// Importers from public annotation formats into canonical ground truth.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cephtrace/ground_truth.hpp"
#include "cephtrace/landmarks.hpp"
#include "cephtrace/limits.hpp"
#include "evaluate/internal.hpp"

namespace cephtrace {

namespace fs = std::filesystem;

std::string describe(const ImportIssue& issue) {
  std::string s = issue.file;
  if (!issue.image.empty()) s += (s.empty() ? "image " : ": image ") + issue.image;
  if (!issue.landmark.empty()) s += ": landmark " + issue.landmark;
  s += ": " + issue.reason;
  if (issue.image_refused) s += " (image refused)";
  return s;
}

std::optional<ImportFormat> parse_import_format(std::string_view name) {
  if (name == "isbi-senior") return ImportFormat::IsbiSenior;
  if (name == "isbi-alternate") return ImportFormat::IsbiAlternate;
  if (name == "cl2023") return ImportFormat::Cl2023;
  if (name == "labelme") return ImportFormat::LabelMe;
  if (name == "canonical") return ImportFormat::Canonical;
  return std::nullopt;
}

const std::vector<std::string>& isbi_landmark_names() {
  static const std::vector<std::string> names{"S",  "N",      "Or",     "Po", "A",  "B",        "Pog",
                                              "Me", "Gn",     "Go",     "L1_tip", "U1_tip", "UL", "LL",
                                              "Sn", "Pog_soft", "PNS", "ANS", "Ar"};
  return names;
}

const std::vector<std::string>& cl2023_landmark_names() {
  // 1–19 = ISBI order; 20–38 from the CL-Detection 2023 definition (see the data README):
  // five canonical landmarks, the others EXTENDED_14 (tables.def holds their numbers).
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = isbi_landmark_names();
    const std::map<int, std::string> canonical{{21, "U1_root"}, {22, "L1_root"}, {25, "Co"}, {26, "Prn"}, {27, "Ba"}};
    for (int k = 20; k <= 38; ++k) {
      std::string name = canonical.count(k) ? canonical.at(k) : "";
      for (const auto& e : extended_landmarks())
        if (e.cl2023_number == k) name = e.name;
      n.push_back(name);
    }
    return n;
  }();
  return names;
}

namespace {

std::string read_text(const fs::path& file) {
  try {
    return read_file_limited(file);
  } catch (const std::exception& e) {
    throw GroundTruthError(e.what());
  }
}

// The ISBI alternate points are a Python dict literal ({0: {'x': 1.0, 'y': nan}, ...}); this
// turns it into JSON in one pass: integer keys quoted, single quotes made double, and
// nan/NaN/None/inf made null so that they are reported, not parsed as numbers. (A single
// pass rather than std::regex, whose recursion overflows the stack on long fields.)
std::string python_dict_to_json(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  const auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  char last = 0;  // last character emitted outside whitespace
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\'' || c == '"') {  // a string: copied up to its closing quote
      const size_t end = text.find(c, i + 1);
      const size_t stop = end == std::string_view::npos ? text.size() : end + 1;
      out += '"';
      out.append(text.substr(i + 1, stop - i - 1 - (end == std::string_view::npos ? 0 : 1)));
      if (end != std::string_view::npos) out += '"';
      i = stop;
      last = '"';
      continue;
    }
    if (is_word(c)) {
      size_t end = i;
      while (end < text.size() && (is_word(text[end]) || text[end] == '.')) ++end;
      const std::string_view word = text.substr(i, end - i);
      size_t next = end;
      while (next < text.size() && is_space(text[next])) ++next;
      const bool is_key = (last == '{' || last == ',') && next < text.size() && text[next] == ':' &&
                          std::all_of(word.begin(), word.end(), [](char d) { return std::isdigit(static_cast<unsigned char>(d)); });
      if (is_key)
        out.append("\"").append(word).append("\"");
      else if (word == "nan" || word == "NaN" || word == "None" || word == "inf")
        out += "null";
      else
        out.append(word);
      i = end;
      last = 'w';
      continue;
    }
    out += c;
    if (!is_space(c)) last = c;
    ++i;
  }
  return out;
}

// Splits one CSV line; double-quoted fields may contain commas ("" is a quote).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else if (c != '\r' || quoted) {
      fields.back() += c;
    }
  }
  return fields;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

bool same_points(const GroundTruth& a, const GroundTruth& b) {
  if (a.landmarks.size() != b.landmarks.size()) return false;
  for (size_t i = 0; i < a.landmarks.size(); ++i)
    if (a.landmarks[i].name != b.landmarks[i].name || a.landmarks[i].x != b.landmarks[i].x ||
        a.landmarks[i].y != b.landmarks[i].y)
      return false;
  return true;
}

// Accumulates records of one import: validates coordinates, keeps identical duplicates
// once and refuses conflicting ones, and produces the sorted result.
class Collector {
 public:
  Collector(const ImportOptions& options, std::string source)
      : options_(options), source_(std::move(source)) {}

  void issue(const std::string& file, const std::string& image, const std::string& landmark,
             const std::string& reason, bool refused = false) {
    result_.issues.push_back({file, image, landmark, reason, refused});
  }
  void refuse(const std::string& file, const std::string& image, const std::string& reason) {
    issue(file, image, "", reason, true);
    records_.erase(image);
    refused_.insert(image);
  }

  // Checks one raw coordinate pair; returns false (and reports why) when it is unusable.
  bool accept_point(const std::string& file, GroundTruth& gt, const std::string& name,
                    std::optional<double> x, std::optional<double> y) {
    if (!x || !y) {
      issue(file, gt.stem, name, "coordinate is missing or not a number; landmark dropped");
      return false;
    }
    std::optional<std::pair<int, int>> size;
    if (gt.image_width && gt.image_height) size = std::pair{*gt.image_width, *gt.image_height};
    if (auto why = detail::coordinate_problem(*x, *y, size)) {
      issue(file, gt.stem, name, *why + "; landmark dropped");
      return false;
    }
    gt.landmarks.push_back({name, *x, *y});
    return true;
  }

  // A fresh record for `stem` with source, spacing and (when known) image size filled in.
  GroundTruth start(const std::string& stem) const {
    GroundTruth gt;
    gt.stem = stem;
    gt.source = source_;
    gt.pixel_spacing_mm = options_.pixel_spacing_mm;
    if (options_.image_size)
      if (auto size = options_.image_size(stem)) {
        gt.image_width = size->first;
        gt.image_height = size->second;
      }
    return gt;
  }

  void add(const std::string& file, GroundTruth gt) {
    if (refused_.count(gt.stem)) return;
    detail::sort_canonical_first(gt.landmarks);
    auto it = records_.find(gt.stem);
    if (it == records_.end()) {
      records_.emplace(gt.stem, std::move(gt));
    } else if (same_points(it->second, gt)) {
      issue(file, gt.stem, "", "listed more than once with identical labels; kept once");
    } else {
      refuse(file, gt.stem, "listed more than once with different labels");
    }
  }

  ImportResult finish() {
    for (auto& [stem, gt] : records_) result_.records.push_back(std::move(gt));
    return std::move(result_);
  }

 private:
  const ImportOptions& options_;
  std::string source_;
  std::map<std::string, GroundTruth> records_;
  std::set<std::string> refused_;
  ImportResult result_;
};

// Files to import: `input` itself, or the files in folder `input` whose name ends in `suffix`.
std::vector<fs::path> input_files(const fs::path& input, const std::string& suffix) {
  std::error_code ec;
  if (!fs::exists(input, ec)) throw GroundTruthError(input.string() + ": no such file or directory");
  if (!fs::is_directory(input, ec)) return {input};
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(input)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw GroundTruthError(input.string() + ": no *" + suffix + " files");
  return files;
}

}  // namespace

ImportResult import_isbi_senior(const fs::path& csv, const ImportOptions& options) {
  const std::string file = csv.string();
  const auto lines = lines_of(read_text(csv));
  if (lines.empty()) throw GroundTruthError(file + ": empty file");
  // Columns are found by name, so a reordered file imports correctly and a missing one is fatal.
  const auto header = split_csv(lines[0]);
  auto column = [&](const std::string& name) -> size_t {
    const auto it = std::find_if(header.begin(), header.end(),
                                 [&](const std::string& h) { return detail::trim(h) == name; });
    if (it == header.end()) throw GroundTruthError(file + ": missing column '" + name + "'");
    return static_cast<size_t>(it - header.begin());
  };
  const size_t image_col = column("image_path");
  std::vector<std::pair<size_t, size_t>> xy;
  for (int k = 1; k <= 19; ++k)
    xy.emplace_back(column(std::to_string(k) + "_x"), column(std::to_string(k) + "_y"));

  Collector collector(options, "ISBI 2015 senior annotation (" + csv.filename().string() + ")");
  for (size_t r = 1; r < lines.size(); ++r) {
    if (detail::trim(lines[r]).empty()) continue;
    const auto fields = split_csv(lines[r]);
    const std::string row = file + " line " + std::to_string(r + 1);
    if (fields.size() != header.size()) {
      collector.refuse(row, detail::stem_of(detail::trim(fields[0])),
                       "has " + std::to_string(fields.size()) + " fields, the header has " +
                           std::to_string(header.size()));
      continue;
    }
    GroundTruth gt = collector.start(detail::stem_of(detail::trim(fields[image_col])));
    for (int k = 0; k < 19; ++k)
      collector.accept_point(row, gt, isbi_landmark_names()[k], detail::parse_number(fields[xy[k].first]),
                             detail::parse_number(fields[xy[k].second]));
    collector.add(row, std::move(gt));
  }
  return collector.finish();
}

ImportResult import_isbi_alternate(const fs::path& csv, const ImportOptions& options) {
  const std::string file = csv.string();
  const auto lines = lines_of(read_text(csv));
  if (lines.empty()) throw GroundTruthError(file + ": empty file");
  const auto header = split_csv(lines[0]);
  if (header.size() != 2 || detail::trim(header[0]) != "document" || detail::trim(header[1]) != "points")
    throw GroundTruthError(file + ": expected the header 'document,points'");

  Collector collector(options, "ISBI 2015 alternate annotation (" + csv.filename().string() + ")");
  for (size_t r = 1; r < lines.size(); ++r) {
    if (detail::trim(lines[r]).empty()) continue;
    const auto fields = split_csv(lines[r]);
    const std::string row = file + " line " + std::to_string(r + 1);
    const std::string stem = detail::stem_of(detail::trim(fields[0]));
    if (fields.size() != 2) {
      collector.refuse(row, stem, "expected 2 fields (document, points)");
      continue;
    }
    nlohmann::json points;
    try {
      points = parse_json(python_dict_to_json(fields[1]), "points");
    } catch (const std::exception& e) {  // syntax, a repeated index, or too deep
      collector.refuse(row, stem, e.what());
      continue;
    }
    if (!points.is_object()) {
      collector.refuse(row, stem, "points is not a dict");
      continue;
    }
    GroundTruth gt = collector.start(stem);
    for (int k = 0; k < 19; ++k) {
      const std::string& name = isbi_landmark_names()[k];
      const auto key = std::to_string(k);
      if (!points.contains(key)) {
        collector.issue(row, stem, name, "index " + key + " is missing");
        continue;
      }
      const auto& p = points[key];
      auto num = [&](const char* c) -> std::optional<double> {
        if (!p.is_object() || !p.contains(c) || !p[c].is_number()) return std::nullopt;
        return p[c].get<double>();
      };
      collector.accept_point(row, gt, name, num("x"), num("y"));
    }
    for (const auto& [key, value] : points.items())
      if (const auto k = detail::parse_number(key); !k || *k < 0 || *k > 18)
        collector.issue(row, stem, key, "unknown landmark index (expected 0-18); ignored");
    collector.add(row, std::move(gt));
  }
  return collector.finish();
}

ImportResult import_cl2023(const fs::path& input, const ImportOptions& options) {
  const auto& names = cl2023_landmark_names();
  Collector collector(options, "CL-Detection 2023 labels");
  for (const auto& path : input_files(input, ".txt")) {
    const std::string file = path.string();
    std::string stem = path.stem().string();
    if (const auto pos = stem.find("_landmark"); pos != std::string::npos) stem.erase(pos);
    std::map<int, std::pair<std::optional<double>, std::optional<double>>> raw;
    std::string refusal;
    const auto lines = lines_of(read_text(path));
    for (size_t r = 0; r < lines.size() && refusal.empty(); ++r) {
      if (detail::trim(lines[r]).empty()) continue;
      const auto fields = split_csv(lines[r]);
      const auto k = detail::parse_number(fields[0]);
      if (fields.size() != 3)
        refusal = "line " + std::to_string(r + 1) + ": expected 'k,x,y'";
      else if (!k || *k < 1 || *k > 38 || *k != static_cast<int>(*k))
        refusal = "line " + std::to_string(r + 1) + ": landmark number must be 1-38";
      else if (raw.count(static_cast<int>(*k)))
        refusal = "line " + std::to_string(r + 1) + ": landmark " + fields[0] + " appears twice";
      else
        raw[static_cast<int>(*k)] = {detail::parse_number(fields[1]), detail::parse_number(fields[2])};
    }
    if (!refusal.empty()) {
      collector.refuse(file, stem, refusal);
      continue;
    }
    GroundTruth gt = collector.start(stem);
    for (int k = 1; k <= 38; ++k) {
      if (!raw.count(k)) {
        collector.issue(file, stem, names[k - 1], "not listed in the file");
        continue;
      }
      collector.accept_point(file, gt, names[k - 1], raw[k].first, raw[k].second);
    }
    collector.add(file, std::move(gt));
  }
  return collector.finish();
}

ImportResult import_labelme(const fs::path& input, const ImportOptions& options) {
  Collector collector(options, "LabelMe");
  for (const auto& path : input_files(input, ".json")) {
    const std::string file = path.string();
    nlohmann::json j;
    try {
      j = parse_json(read_text(path), file);
    } catch (const std::exception& e) {
      collector.refuse(file, path.stem().string(), e.what());
      continue;
    }
    if (!j.is_object() || !j.contains("shapes") || !j["shapes"].is_array()) {
      collector.refuse(file, path.stem().string(), "no 'shapes' array (not a LabelMe file)");
      continue;
    }
    const std::string stem = j.contains("imagePath") && j["imagePath"].is_string()
                                 ? detail::stem_of(j["imagePath"].get<std::string>())
                                 : path.stem().string();
    GroundTruth gt = collector.start(stem);
    const auto positive_int = [&](const char* key) {
      return j.contains(key) && j[key].is_number_integer() && j[key].get<int>() > 0;
    };
    if (!gt.image_width && positive_int("imageWidth") && positive_int("imageHeight")) {
      gt.image_width = j["imageWidth"].get<int>();
      gt.image_height = j["imageHeight"].get<int>();
    }
    std::map<std::string, std::string> label_of;  // resolved name -> first label
    std::string refusal;
    for (const auto& shape : j["shapes"]) {
      if (!shape.is_object() || !shape.contains("label") || !shape["label"].is_string()) {
        refusal = "a shape without a string 'label'";
        break;
      }
      const std::string label = shape["label"].get<std::string>();
      // LabelMe writes shape_type; a missing or null one is taken as a point.
      const std::string type = shape.contains("shape_type") && shape["shape_type"].is_string()
                                   ? shape["shape_type"].get<std::string>()
                                   : "point";
      if (type != "point") {
        collector.issue(file, stem, label, "shape_type '" + type + "' is not a point; ignored");
        continue;
      }
      const auto resolved = options.aliases.resolve(label);
      const std::string name = resolved.value_or(label);
      if (!resolved)
        collector.issue(file, stem, label, "not a known landmark name; kept under its own name "
                                           "(map it with an alias file)");
      if (auto [it, fresh] = label_of.emplace(name, label); !fresh) {
        refusal = "labels '" + it->second + "' and '" + label + "' both give landmark " + name;
        break;
      }
      static const nlohmann::json kNone;
      const auto& pts = shape.contains("points") ? shape["points"] : kNone;  // no deep copy
      std::optional<double> x, y;
      if (pts.is_array() && pts.size() == 1 && pts[0].is_array() && pts[0].size() == 2 &&
          pts[0][0].is_number() && pts[0][1].is_number()) {
        x = pts[0][0].get<double>();
        y = pts[0][1].get<double>();
      }
      collector.accept_point(file, gt, name, x, y);
    }
    if (!refusal.empty()) {
      collector.refuse(file, stem, refusal);
      continue;
    }
    collector.add(file, std::move(gt));
  }
  return collector.finish();
}

ImportResult import_canonical(const fs::path& input, const ImportOptions& options) {
  Collector collector(options, "canonical JSON");
  for (const auto& path : input_files(input, ".json")) {
    try {
      GroundTruth gt = ground_truth_from_json(read_text(path), path.string(), options.aliases);
      const GroundTruth defaults = collector.start(gt.stem);
      if (defaults.pixel_spacing_mm) gt.pixel_spacing_mm = defaults.pixel_spacing_mm;
      if (!gt.image_width && defaults.image_width) {
        gt.image_width = defaults.image_width;
        gt.image_height = defaults.image_height;
        // Re-check against the size that is now known.
        for (const auto& p : gt.landmarks)
          if (auto why = detail::coordinate_problem(p.x, p.y, std::pair{*gt.image_width, *gt.image_height}))
            throw GroundTruthError(path.string() + ": landmark " + p.name + ": " + *why);
      }
      if (gt.source.empty()) gt.source = "canonical JSON";
      collector.add(path.string(), std::move(gt));
    } catch (const GroundTruthError& e) {
      collector.refuse("", path.stem().string(), e.what());  // the message names the file
    }
  }
  return collector.finish();
}

ImportResult import_ground_truth(ImportFormat format, const fs::path& input, const ImportOptions& options) {
  switch (format) {
    case ImportFormat::IsbiSenior: return import_isbi_senior(input, options);
    case ImportFormat::IsbiAlternate: return import_isbi_alternate(input, options);
    case ImportFormat::Cl2023: return import_cl2023(input, options);
    case ImportFormat::LabelMe: return import_labelme(input, options);
    case ImportFormat::Canonical: return import_canonical(input, options);
  }
  throw GroundTruthError("unknown import format");
}

}  // namespace cephtrace
