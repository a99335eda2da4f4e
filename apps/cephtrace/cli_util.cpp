#include "cli_util.hpp"

#include "cephtrace/analysis.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "cephtrace/image_io.hpp"
#include "cephtrace/limits.hpp"

namespace cephtrace::cli {

namespace fs = std::filesystem;

namespace {

// (device, inode) of each protected input: equal for every name of the same file.
std::set<std::pair<dev_t, ino_t>>& protected_inputs() {
  static std::set<std::pair<dev_t, ino_t>> files;
  return files;
}

std::optional<std::pair<dev_t, ino_t>> file_id(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return std::pair{st.st_dev, st.st_ino};
}

// Where a write to `path` must land: symbolic links followed to their final target (which
// may not exist yet: a dangling link is written through, not replaced).
fs::path follow_links(const fs::path& path) {
  fs::path p = path;
  std::error_code ec;
  for (int hops = 0; fs::is_symlink(fs::symlink_status(p, ec)); ++hops) {
    if (hops == 40) throw std::runtime_error(path.string() + ": symbolic link loop");
    const fs::path target = fs::read_symlink(p, ec);
    if (ec) throw std::runtime_error(path.string() + ": cannot read the symbolic link");
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  return p;
}

void write_direct(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.flush();
  if (!out) throw std::runtime_error(path.string() + ": write failed");
}

}  // namespace

void protect_input(const fs::path& path) {
  if (const auto id = file_id(path)) protected_inputs().insert(*id);
}

void refuse_protected(const fs::path& path) {
  if (const auto id = file_id(path); id && protected_inputs().count(*id))
    throw std::runtime_error(path.string() + ": is an input of this command; refusing to overwrite it");
}

void write_file_atomic(const fs::path& path, std::string_view data) {
  std::error_code ec;
  if (path.empty()) throw std::runtime_error("an empty output path");
  refuse_protected(path);
  const auto status = fs::status(path, ec);  // follows links, /proc/self/fd/N included
  if (fs::is_directory(status)) throw std::runtime_error(path.string() + ": is a folder");
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    write_direct(path, data);  // a device or pipe: renaming over it would replace the entry
    return;
  }
  const fs::path target = follow_links(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  const fs::path tmp = target.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path.string() + ": cannot open for writing");
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      throw std::runtime_error(path.string() + ": write failed (disk full?)");
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error(path.string() + ": cannot move the finished file into place");
  }
}

void write_png_atomic(const fs::path& path, const cv::Mat& rgb) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> png;
  if (!cv::imencode(".png", bgr, png)) throw std::runtime_error(path.string() + ": PNG encoding failed");
  write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

ImageListing list_images(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(dir.string() + ": not a folder");
  ImageListing listing;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!is_supported_image_extension(it->path())) continue;
    std::error_code status_ec;
    const auto status = fs::status(it->path(), status_ec);
    if (fs::is_regular_file(status)) {
      listing.images.push_back(it->path());
      continue;
    }
    std::string why = "not a regular file";
    if (status_ec.value() == ELOOP) why = "symbolic link loop";
    else if (!fs::exists(status) && it->is_symlink(status_ec)) why = "broken symbolic link";
    else if (fs::is_directory(status)) why = "is a folder, not an image file";
    listing.skipped.push_back(it->path().string() + ": " + why);
  }
  if (ec) throw std::runtime_error(dir.string() + ": cannot list folder: " + ec.message());
  std::sort(listing.images.begin(), listing.images.end());
  std::sort(listing.skipped.begin(), listing.skipped.end());
  return listing;
}

namespace {

// The folder of the running program (empty when unknown).
fs::path program_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

// The first of ./<name>, the installed data folder and the source tree's that holds `marker`.
fs::path default_data_dir(const std::string& name, const std::string& marker,
                          [[maybe_unused]] const char* source_dir) {
  std::error_code ec;
  if (fs::exists(fs::path(name) / marker, ec)) return name;
  const fs::path program = program_dir();
  if (!program.empty()) {
#ifdef CEPHTRACE_DATA_DIR_FROM_PROGRAM
    const fs::path installed = (program / CEPHTRACE_DATA_DIR_FROM_PROGRAM / name).lexically_normal();
    if (fs::exists(installed / marker, ec)) return installed;
#endif
#ifdef CEPHTRACE_BUILD_PROGRAM_DIR
    // Only the program where it was built: an installed (or copied) one must not pick up
    // whatever the source tree holds later.
    if (source_dir && fs::equivalent(program, CEPHTRACE_BUILD_PROGRAM_DIR, ec) &&
        fs::exists(fs::path(source_dir) / marker, ec))
      return source_dir;
#endif
  }
  return name;
}

}  // namespace

fs::path default_model_dir() {
  if (const char* env = std::getenv("CEPHTRACE_MODEL_DIR"); env && *env) return env;
#ifdef CEPHTRACE_SOURCE_MODEL_DIR
  return default_data_dir("models", "stage1", CEPHTRACE_SOURCE_MODEL_DIR);
#else
  return default_data_dir("models", "stage1", nullptr);
#endif
}

fs::path protocol_model_dir() { return default_model_dir() / "isbi2015-protocol"; }

fs::path default_web_dir() {
#ifdef CEPHTRACE_SOURCE_WEB_DIR
  return default_data_dir("web", "index.html", CEPHTRACE_SOURCE_WEB_DIR);
#else
  return default_data_dir("web", "index.html", nullptr);
#endif
}

std::string default_model_dir_help() {
  return "$CEPHTRACE_MODEL_DIR, else ./models, else the installed models "
         "(<prefix>/share/cephtrace/models), else the source tree's (the program in its build "
         "tree); here: " + default_model_dir().string();
}

const char* const kThreadsHelp =
    "CPU threads of OpenCV's thread pool, which is process-wide (one pool for the whole "
    "program); 0 = OpenCV's default, one per core";

void add_model_options(CLI::App* cmd, ModelArgs& a, const std::string& group) {
  cmd->add_option("--model-dir", a.model_dir,
                  "Model folder (stage0/, stage1/, stage2/); default: " + default_model_dir_help())
      ->group(group);
  cmd->add_flag("--no-verify", a.no_verify,
                "Do not check the model files against the model folder's MANIFEST.sha256")
      ->group(group);
  cmd->add_flag("--gpu", a.gpu, "Run the models on a CUDA GPU through OpenCV DNN (fails if none)")
      ->group(group);
  cmd->add_option("--threads", a.threads, kThreadsHelp)
      ->check(CLI::Range(0, limits().max_threads))->group(group);
  cmd->add_option("--decoder", a.decoder,
                  "Heatmap decoder: reference (DARK-lite, as published) or dark (full DARK)")
      ->capture_default_str()->check(CLI::IsMember({"reference", "dark"}))->group(group);
  cmd->add_option("--refine-passes", a.refine_passes,
                  "Stage 2 local refinement passes when the model folder has stage2/refine.onnx "
                  "(the shipped models do; the published ones do not). Further models "
                  "stage2/refine_2.onnx, refine_3.onnx, ... join it as an ensemble: each pass "
                  "averages their positions. 0 = off")
      ->capture_default_str()->check(CLI::Range(0, 5))->group(group);
  cmd->add_option("--refine-share-radius", a.refine_share_radius,
                  "Stage 2: landmarks whose Stage 1 positions lie within a square of this half-side "
                  "(refinement-grid pixels, about 0.21 mm on ISBI films) share one patch and one "
                  "network run, each read from its own output channel; 0 = a patch per landmark "
                  "(slower; the accuracy of each radius: docs/benchmark.md)")
      ->capture_default_str()->check(CLI::Range(0.0, double(constants::kRefinePatch / 2)))->group(group);
  cmd->add_flag("--no-framing", a.no_framing,
                "Do not normalise the field of view (by default a coarse Stage 1 pass finds the "
                "head and the film is resampled so that it sits, sized and upright, as in the "
                "training images)")
      ->group(group);
  cmd->add_flag("--no-anatomy-gate", a.no_anatomy_gate,
                "Keep Stage 1's strongest response for every landmark (by default a landmark more "
                "than 25 mm from where the rest of the head puts it is decoded again within that "
                "radius and reported \"relocated\" with low confidence)")
      ->group(group);
  cmd->add_option("--extended-repass-min-move", a.extended_repass_min_move,
                  "Extended landmarks: the second pass refines again only those that the first "
                  "moved at least this far (refinement-grid pixels, about 0.21 mm on ISBI films); "
                  "0 = all of them (the accuracy of each value: docs/benchmark.md)")
      ->capture_default_str()->check(CLI::Range(0.0, double(constants::kRefinePatch)))->group(group);
  cmd->add_flag("--no-extended", a.no_extended,
                "Report the 25 canonical landmarks only (by default, when the model folder has "
                "extended/refine_extended.onnx, the 14 extended landmarks follow them: D, Cm, Ptm, "
                "PT, Bo, UL_border, LL_border, Gn_soft, Me_soft, G_soft, N_soft, C_point, U6, L6)")
      ->group(group);
}

PredictorOptions predictor_options(const ModelArgs& a) {
  PredictorOptions o;
  o.model_dir = a.model_dir.empty() ? default_model_dir() : fs::path(a.model_dir);
  o.threads = a.threads;
  o.strict = a.strict;
  o.use_gpu = a.gpu;
  o.decoder = a.decoder == "dark" ? Decoder::Dark : Decoder::Reference;
  o.refine_passes = a.refine_passes;
  o.refine_share_radius = a.refine_share_radius;
  o.extended_repass_min_move = a.extended_repass_min_move;
  o.verify_models = !a.no_verify;
  o.framing = !a.no_framing;
  o.anatomy_gate = !a.no_anatomy_gate;
  o.extended = !a.no_extended;
  return o;
}

Predictor load_predictor(const PredictorOptions& options) {
  Predictor predictor(options);
  for (const auto& [key, why] : predictor.missing_models())
    std::cerr << "warning: " << key << " model unavailable: " << why << "\n";
  if (!predictor.stage0_available())
    std::cerr << "warning: Stage 0 unavailable — running DEGRADED (zero attention priors)\n";
  return predictor;
}

CLI::Option* add_analyses_option(CLI::App* cmd, std::vector<std::string>& analyses) {
  std::vector<std::string> ids;
  std::string listing;
  for (const auto& [id, name] : analysis_names()) {
    ids.emplace_back(id);
    listing += (listing.empty() ? "" : ", ") + std::string(id) + " (" + std::string(name) + ")";
  }
  return cmd->add_option("--analyses", analyses,
                  "Comma-separated analyses to report, listed in clinical order whatever the order "
                  "given: " + listing + ". Default: all")
      ->delimiter(',')
      ->check(CLI::IsMember(ids));
}

void add_jobs_option(CLI::App* cmd, int& jobs) {
  cmd->add_option("--jobs", jobs,
                  "Folder runs: images predicted at once, each by its own copy of the models "
                  "(memory grows with each); with --threads 0 each gets cores/jobs threads. "
                  "Reading and writing overlap the inference either way; results keep name order")
      ->check(CLI::Range(1, 64));
}

std::vector<Predictor> load_predictors(PredictorOptions options, int jobs) {
  if (jobs > 1 && options.threads == 0)
    options.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / jobs);
  std::vector<Predictor> predictors;
  predictors.push_back(load_predictor(options));  // warns once about missing models
  while (static_cast<int>(predictors.size()) < jobs) predictors.emplace_back(options);
  return predictors;
}

std::vector<Predictor*> pointers(std::vector<Predictor>& predictors) {
  std::vector<Predictor*> out;
  for (auto& p : predictors) out.push_back(&p);
  return out;
}

CLI::Validator nonempty_path() {
  return CLI::Validator(
      [](const std::string& text) -> std::string { return text.empty() ? "an empty path" : ""; },
      "PATH");
}

CLI::Validator pixel_spacing_mm() {
  return CLI::Validator(
      [](const std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v)) return "not a number";
        try {
          check_pixel_spacing(v, "--pixel-spacing");
        } catch (const LimitError& e) {
          return e.what();
        }
        return "";
      },
      "MM");
}

void add_limit_options(CLI::App* cmd) {
  Limits& l = limits();
  cmd->add_option("--max-pixels", l.max_pixels, "refuse images with more pixels (read from the header)")
      ->capture_default_str()->check(CLI::PositiveNumber)->group("Limits");
  cmd->add_option("--max-aspect-ratio", l.max_aspect_ratio, "refuse images more elongated than this")
      ->capture_default_str()->check(CLI::Range(1.0, 1000.0))->group("Limits");
  cmd->add_option_function<int64_t>(
         "--max-file-mb", [&l](int64_t mb) { l.max_file_bytes = mb << 20; },
         "refuse input files larger than this (default " + std::to_string(l.max_file_bytes >> 20) + ")")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))->group("Limits");
  cmd->add_option("--max-json-depth", l.max_json_depth, "refuse JSON nested deeper than this")
      ->capture_default_str()->check(CLI::Range(2, 1000))->group("Limits");
}

}  // namespace cephtrace::cli
