// Ground-truth landmarks: the canonical per-image JSON format (spec §7), the alias table
// for landmark names, and importers from the public annotation formats.
//
// Canonical file: one <stem>.json per image,
//   {"S": [x, y], "N": {"x": .., "y": ..}, "Pm": null, ...,
//    "_source": "...", "_pixel_spacing_mm": 0.1, "_image_size": [w, h], "_derived": ["Pm"]}
// Keys starting with '_' are metadata; every other key is a landmark (canonical name, or the
// source's own name for landmarks CANONICAL_25 does not have). null = missing.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cephtrace/original_image_landmarks.hpp"

namespace cephtrace {

// Raised for unusable landmark input (ground truth, a predict JSON read back); the message
// names the file and the problem.
class GroundTruthError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct NamedPoint {
  std::string name;
  double x = 0, y = 0;
};

struct GroundTruth {
  std::string stem;                       // image file name without extension ("151")
  std::vector<NamedPoint> landmarks;      // canonical order first, then extra names
  std::optional<double> pixel_spacing_mm;
  std::optional<int> image_width, image_height;
  std::string source;                     // where the labels came from
  std::vector<std::string> derived;       // landmarks computed, not annotated

  const NamedPoint* find(std::string_view name) const;
};

// Maps landmark labels ("sella", "S", "Sella turcica") to canonical names. Matching ignores
// case, spaces, '_', '-' and '.', so "U1 tip" and "u1_tip" are the same label.
class AliasTable {
 public:
  static AliasTable builtin();  // canonical names + common anatomical names
  void add(std::string_view alias, std::string_view canonical);  // throws for an unknown target
  // Adds {"alias": "canonical", ...} from a JSON file; throws GroundTruthError naming the file.
  void load(const std::filesystem::path& file);
  // The canonical name for a label, or nullopt when the label is not a known alias.
  std::optional<std::string> resolve(std::string_view label) const;

 private:
  std::map<std::string, std::string> map_;  // normalised alias -> canonical name
};

// ---- Canonical JSON -------------------------------------------------------------------------

// Parses canonical ground truth. Labels go through `aliases` (so "sella" is accepted as S);
// unknown labels are kept under their own name. Refuses (GroundTruthError naming `origin`):
// a non-object, a malformed point, NaN/negative/out-of-image coordinates, two keys for the
// same landmark. null values are missing landmarks.
GroundTruth ground_truth_from_json(const std::string& text, const std::string& origin,
                                   const AliasTable& aliases = AliasTable::builtin());
// The same for parsed JSON (extra landmarks then in key order, not file order); `origin` may
// be empty (e.g. a request body).
GroundTruth ground_truth_from_json(const nlohmann::json& j, const std::string& origin,
                                   const AliasTable& aliases = AliasTable::builtin());
// Its canonical and extended landmarks (other names are left out) and pixel spacing.
OriginalImageLandmarks landmarks_from_ground_truth(const GroundTruth& gt);
GroundTruth read_ground_truth_file(const std::filesystem::path& file,
                                   const AliasTable& aliases = AliasTable::builtin());
nlohmann::ordered_json to_json(const GroundTruth& gt);
std::string ground_truth_text(const GroundTruth& gt);  // the file's text, one landmark per line
void write_ground_truth_file(const std::filesystem::path& file, const GroundTruth& gt);

// Every *.json in `dir`, sorted by stem. A file that cannot be read is reported in `problems`
// ("file: reason") and left out.
std::vector<GroundTruth> read_ground_truth_dir(const std::filesystem::path& dir,
                                               std::vector<std::string>& problems,
                                               const AliasTable& aliases = AliasTable::builtin());

// ---- Importers ------------------------------------------------------------------------------

// One problem found while importing. Policy: a bad coordinate value (non-numeric, NaN,
// negative, outside the image) drops that landmark; a structural problem (missing column,
// wrong field count, duplicated label or image with conflicting labels) refuses the image
// (or, for a bad header, the whole file). Nothing is ever repaired into a number.
struct ImportIssue {
  std::string file;
  std::string image;     // stem, empty when the problem concerns the whole file
  std::string landmark;  // empty when the problem concerns the whole image
  std::string reason;
  bool image_refused = false;  // true: no record was produced for `image`
};

struct ImportResult {
  std::vector<GroundTruth> records;  // sorted by stem
  std::vector<ImportIssue> issues;
};

std::string describe(const ImportIssue& issue);  // "file: image 151: landmark S: reason"

struct ImportOptions {
  std::optional<double> pixel_spacing_mm;  // recorded in every record when given
  AliasTable aliases = AliasTable::builtin();
  // Image size for out-of-image checks, by stem (e.g. read from an image folder); nullopt
  // when unknown, in which case only negative coordinates are refused.
  std::function<std::optional<std::pair<int, int>>(const std::string& stem)> image_size;
};

enum class ImportFormat { IsbiSenior, IsbiAlternate, Cl2023, LabelMe, Canonical };
std::optional<ImportFormat> parse_import_format(std::string_view name);  // "isbi-senior", ...

// The 19 ISBI 2015 landmarks in ISBI order, as canonical names.
const std::vector<std::string>& isbi_landmark_names();
// The 38 CL-Detection 2023 landmarks: their canonical or extended names (tables.def).
const std::vector<std::string>& cl2023_landmark_names();

// ISBI 2015 senior CSV: image_path,1_x,1_y,...,19_x,19_y.
ImportResult import_isbi_senior(const std::filesystem::path& csv, const ImportOptions& options = {});
// The alternate points.csv: document,points with a Python-dict literal {0: {'x':..,'y':..}, ...}.
// A document listed twice with identical points is kept once; with different points, refused.
ImportResult import_isbi_alternate(const std::filesystem::path& csv, const ImportOptions& options = {});
// CL-Detection 2023: one NNN_landmark.txt (38 lines k,x,y) or a folder of them.
ImportResult import_cl2023(const std::filesystem::path& file_or_dir, const ImportOptions& options = {});
// LabelMe JSON: one file or a folder of *.json; point shapes only, labels through the aliases.
ImportResult import_labelme(const std::filesystem::path& file_or_dir, const ImportOptions& options = {});
// Canonical JSON: one file or a folder, validated.
ImportResult import_canonical(const std::filesystem::path& file_or_dir, const ImportOptions& options = {});
ImportResult import_ground_truth(ImportFormat format, const std::filesystem::path& input,
                                 const ImportOptions& options = {});

}  // namespace cephtrace
