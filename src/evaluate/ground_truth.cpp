// The alias table and the canonical ground-truth JSON format.
#include "cephtrace/ground_truth.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "cephtrace/landmarks.hpp"
#include "cephtrace/limits.hpp"
#include "evaluate/internal.hpp"

namespace cephtrace {

namespace detail {

std::optional<std::string> coordinate_problem(double x, double y,
                                              std::optional<std::pair<int, int>> size) {
  if (!std::isfinite(x) || !std::isfinite(y)) return "coordinate is not a finite number";
  if (std::max(x, y) > limits().max_coordinate_px)
    return "coordinate (" + format_number(x, 2) + ", " + format_number(y, 2) + ") is beyond any image (" +
           format_number(limits().max_coordinate_px, 0) + " px)";
  if (x < 0 || y < 0) return "negative coordinate (" + format_number(x, 2) + ", " + format_number(y, 2) + ")";
  if (size && (x > size->first || y > size->second))
    return "coordinate (" + format_number(x, 2) + ", " + format_number(y, 2) + ") outside the " +
           std::to_string(size->first) + "x" + std::to_string(size->second) + " image";
  return std::nullopt;
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n\"'");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n\"'");
  return std::string(s.substr(first, last - first + 1));
}

std::optional<double> parse_number(std::string_view field) {
  const std::string t = trim(field);
  if (t.empty()) return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string stem_of(std::string_view path_or_name) {
  return std::filesystem::path(std::string(path_or_name)).stem().string();
}

void sort_canonical_first(std::vector<NamedPoint>& points) {
  auto rank = [](const NamedPoint& p) { return traced_index(p.name).value_or(kNumTraced); };
  std::stable_sort(points.begin(), points.end(),
                   [&](const NamedPoint& a, const NamedPoint& b) { return rank(a) < rank(b); });
}

std::string format_number(double v, int decimals) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(decimals);
  os << v;
  return os.str();
}

}  // namespace detail

const NamedPoint* GroundTruth::find(std::string_view name) const {
  for (const auto& p : landmarks)
    if (p.name == name) return &p;
  return nullptr;
}

// ---- Alias table ----------------------------------------------------------------------------

namespace {

std::string normalise_label(std::string_view label) {
  std::string out;
  for (char c : label) {
    if (c == ' ' || c == '_' || c == '-' || c == '.' || c == '\t') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

AliasTable AliasTable::builtin() {
  AliasTable t;
  for (const auto& info : canonical_landmarks()) t.add(info.name, info.name);
  for (const auto& info : extended_landmarks()) t.add(info.name, info.name);
  // Anatomical names, ISBI 2015 and CL-Detection 2023 wording, common abbreviations.
  const std::pair<const char*, const char*> names[] = {
      {"sella", "S"}, {"sella turcica", "S"}, {"nasion", "N"}, {"orbitale", "Or"},
      {"porion", "Po"}, {"anterior nasal spine", "ANS"}, {"posterior nasal spine", "PNS"},
      {"subspinale", "A"}, {"A point", "A"}, {"point A", "A"}, {"supramentale", "B"},
      {"B point", "B"}, {"point B", "B"}, {"pogonion", "Pog"}, {"gnathion", "Gn"},
      {"menton", "Me"}, {"gonion", "Go"}, {"articulare", "Ar"}, {"condylion", "Co"},
      {"upper incisal incision", "U1_tip"}, {"upper incisor tip", "U1_tip"},
      {"upper incisor root apex", "U1_root"}, {"upper incisor apex", "U1_root"},
      {"lower incisal incision", "L1_tip"}, {"lower incisor tip", "L1_tip"},
      {"lower incisor root apex", "L1_root"}, {"lower incisor apex", "L1_root"},
      {"upper lip", "UL"}, {"labrale superius", "UL"}, {"lower lip", "LL"},
      {"labrale inferius", "LL"}, {"soft tissue suprapogonion", "Pm"}, {"suprapogonion", "Pm"},
      {"basion", "Ba"}, {"soft tissue pogonion", "Pog_soft"}, {"Pog'", "Pog_soft"},
      {"subnasale", "Sn"}, {"pronasale", "Prn"}, {"nose tip", "Prn"},
      // EXTENDED_14
      {"symphysis centre", "D"}, {"columella", "Cm"}, {"pterygomaxillary fissure", "Ptm"},
      {"PT point", "PT"}, {"Bolton point", "Bo"}, {"Bolton", "Bo"},
      {"upper lip mucocutaneous border", "UL_border"}, {"lower lip mucocutaneous border", "LL_border"},
      {"soft tissue gnathion", "Gn_soft"}, {"soft tissue menton", "Me_soft"}, {"glabella", "G_soft"},
      {"soft tissue glabella", "G_soft"}, {"soft tissue nasion", "N_soft"}, {"cervical point", "C_point"},
      {"cervical", "C_point"},
      {"upper first molar", "U6"}, {"U6_mesial", "U6"}, {"lower first molar", "L6"}, {"L6_mesial", "L6"},
  };
  for (const auto& [alias, canonical] : names) t.add(alias, canonical);
  return t;
}

void AliasTable::add(std::string_view alias, std::string_view canonical) {
  if (!traced_index(canonical))
    throw GroundTruthError("alias '" + std::string(alias) + "': '" + std::string(canonical) +
                           "' is not a canonical or extended landmark name");
  map_[normalise_label(alias)] = std::string(canonical);
}

void AliasTable::load(const std::filesystem::path& file) {
  nlohmann::json j;
  try {
    j = parse_json(read_file_limited(file), file.string());
  } catch (const std::exception& e) {
    throw GroundTruthError(e.what());
  }
  if (!j.is_object()) throw GroundTruthError(file.string() + ": expected {\"alias\": \"canonical\", ...}");
  for (const auto& [alias, target] : j.items()) {
    if (!target.is_string())
      throw GroundTruthError(file.string() + ": alias '" + alias + "' does not map to a string");
    try {
      add(alias, target.get<std::string>());
    } catch (const GroundTruthError& e) {
      throw GroundTruthError(file.string() + ": " + e.what());
    }
  }
}

std::optional<std::string> AliasTable::resolve(std::string_view label) const {
  const auto it = map_.find(normalise_label(label));
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

// ---- Canonical JSON -------------------------------------------------------------------------

namespace {

std::optional<std::pair<double, double>> json_point(const nlohmann::json& v) {
  auto number = [](const nlohmann::json& n) -> std::optional<double> {
    if (!n.is_number()) return std::nullopt;
    return n.get<double>();
  };
  std::optional<double> x, y;
  if (v.is_array() && v.size() == 2) {
    x = number(v[0]);
    y = number(v[1]);
  } else if (v.is_object() && v.contains("x") && v.contains("y")) {
    x = number(v["x"]);
    y = number(v["y"]);
  }
  if (!x || !y) return std::nullopt;
  return std::pair{*x, *y};
}

}  // namespace

namespace {

// The canonical object `j`, its landmark labels taken in the order `labels` gives.
GroundTruth ground_truth_of(const nlohmann::json& j, const std::vector<std::string>& labels,
                            const std::string& origin, const AliasTable& aliases) {
  auto fail = [&](const std::string& why) { return GroundTruthError(origin.empty() ? why : origin + ": " + why); };
  if (!j.is_object()) throw fail("expected an object mapping landmark names to [x, y]");

  GroundTruth gt;
  gt.stem = detail::stem_of(origin);
  if (j.contains("_pixel_spacing_mm") && !j["_pixel_spacing_mm"].is_null()) {
    const auto& s = j["_pixel_spacing_mm"];
    if (!s.is_number()) throw fail("_pixel_spacing_mm must be a number");
    try {
      check_pixel_spacing(s.get<double>(), "_pixel_spacing_mm");
    } catch (const LimitError& e) {
      throw fail(e.what());
    }
    gt.pixel_spacing_mm = s.get<double>();
  }
  if (j.contains("_image_size")) {
    const auto& s = j["_image_size"];
    if (!s.is_array() || s.size() != 2 || !s[0].is_number_integer() || !s[1].is_number_integer() ||
        s[0].get<int>() <= 0 || s[1].get<int>() <= 0)
      throw fail("_image_size must be [width, height] in pixels");
    gt.image_width = s[0].get<int>();
    gt.image_height = s[1].get<int>();
  }
  if (j.contains("_source") && j["_source"].is_string()) gt.source = j["_source"].get<std::string>();
  if (j.contains("_derived") && j["_derived"].is_array())
    for (const auto& d : j["_derived"])
      if (d.is_string()) gt.derived.push_back(aliases.resolve(d.get<std::string>()).value_or(d.get<std::string>()));

  std::optional<std::pair<int, int>> size;
  if (gt.image_width) size = std::pair{*gt.image_width, *gt.image_height};
  std::map<std::string, std::string> label_of;  // resolved name -> label that gave it
  for (const auto& label : labels) {
    if (label.empty() || label.front() == '_') continue;  // metadata
    const auto& value = j[label];
    const std::string name = aliases.resolve(label).value_or(label);
    if (auto [it, fresh] = label_of.emplace(name, label); !fresh)
      throw fail("labels '" + it->second + "' and '" + label + "' both give landmark " + name);
    if (value.is_null()) continue;  // missing
    const auto p = json_point(value);
    if (!p)
      throw fail("landmark '" + label + "': expected [x, y] or {\"x\": .., \"y\": ..}, got " + json_excerpt(value));
    if (auto why = detail::coordinate_problem(p->first, p->second, size))
      throw fail("landmark '" + label + "': " + *why);
    gt.landmarks.push_back({name, p->first, p->second});
  }
  detail::sort_canonical_first(gt.landmarks);
  return gt;
}

}  // namespace

GroundTruth ground_truth_from_json(const std::string& text, const std::string& origin,
                                   const AliasTable& aliases) {
  // parse_json bounds the depth and refuses duplicate keys (nlohmann keeps the last one).
  nlohmann::json j;
  try {
    j = parse_json(text, origin);
  } catch (const std::exception& e) {
    throw GroundTruthError(e.what());
  }
  // File order: extra landmarks keep the order they were written in.
  return ground_truth_of(j, j.is_object() ? top_level_keys(text) : std::vector<std::string>{}, origin, aliases);
}

GroundTruth ground_truth_from_json(const nlohmann::json& j, const std::string& origin,
                                   const AliasTable& aliases) {
  std::vector<std::string> labels;
  if (j.is_object())
    for (const auto& [label, value] : j.items()) labels.push_back(label);
  return ground_truth_of(j, labels, origin, aliases);
}

OriginalImageLandmarks landmarks_from_ground_truth(const GroundTruth& gt) {
  OriginalImageLandmarks out;
  for (const auto& l : gt.landmarks)
    if (const auto i = traced_index(l.name)) out.points[*i] = cv::Point2d(l.x, l.y);
  out.pixel_spacing_mm = gt.pixel_spacing_mm;
  return out;
}

GroundTruth read_ground_truth_file(const std::filesystem::path& file, const AliasTable& aliases) {
  std::string text;
  try {
    text = read_file_limited(file);
  } catch (const std::exception& e) {
    throw GroundTruthError(e.what());
  }
  return ground_truth_from_json(text, file.string(), aliases);
}

nlohmann::ordered_json to_json(const GroundTruth& gt) {
  // Ordered: the file lists landmarks in canonical order, then extras as imported.
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& p : gt.landmarks) j[p.name] = {p.x, p.y};
  if (!gt.source.empty()) j["_source"] = gt.source;
  if (gt.pixel_spacing_mm) j["_pixel_spacing_mm"] = *gt.pixel_spacing_mm;
  if (gt.image_width && gt.image_height) j["_image_size"] = {*gt.image_width, *gt.image_height};
  if (!gt.derived.empty()) j["_derived"] = gt.derived;
  return j;
}

std::string ground_truth_text(const GroundTruth& gt) {
  // One entry per line ("S": [846.0, 1022.0]) keeps the files easy to read and to diff.
  std::string text = "{\n";
  const auto j = to_json(gt);
  for (auto it = j.begin(); it != j.end(); ++it) {
    text.append(" ").append(nlohmann::ordered_json(it.key()).dump()).append(": ").append(it.value().dump());
    text.append(std::next(it) == j.end() ? "\n" : ",\n");
  }
  text.append("}\n");
  return text;
}

void write_ground_truth_file(const std::filesystem::path& file, const GroundTruth& gt) {
  std::ofstream out(file);
  if (!out) throw GroundTruthError(file.string() + ": cannot write");
  out << ground_truth_text(gt);
  if (!out) throw GroundTruthError(file.string() + ": write failed");
}

std::vector<GroundTruth> read_ground_truth_dir(const std::filesystem::path& dir,
                                               std::vector<std::string>& problems,
                                               const AliasTable& aliases) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw GroundTruthError(dir.string() + ": not a directory");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<GroundTruth> out;
  for (const auto& f : files) {
    try {
      out.push_back(read_ground_truth_file(f, aliases));
    } catch (const GroundTruthError& e) {
      problems.push_back(e.what());
    }
  }
  return out;
}

}  // namespace cephtrace
