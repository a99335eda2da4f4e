// Small helpers shared by the subcommands.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/core.hpp>

#include "cephtrace/constants.hpp"
#include "cephtrace/predictor.hpp"

namespace cephtrace::cli {

// Marks a file the command reads: write_file_atomic refuses to replace it (the same file
// under any name, hard links included).
void protect_input(const std::filesystem::path& path);
// Throws std::runtime_error when `path` is a protected input: a command calls it for each
// output before its work, so that it fails at once rather than after minutes of it.
void refuse_protected(const std::filesystem::path& path);

// Writes `data` to `path` so that a reader never sees a half-written file: through a
// temporary file beside the target and a rename. A symbolic link is followed (its target is
// replaced, the link stays); a special file (a character device such as /dev/null, a pipe,
// /dev/stdout) is written to directly. Throws std::runtime_error naming the path, also when
// the path is a protected input.
void write_file_atomic(const std::filesystem::path& path, std::string_view data);
// Encodes an RGB image as PNG and writes it atomically.
void write_png_atomic(const std::filesystem::path& path, const cv::Mat& rgb);

// The supported image files directly inside a folder, sorted by name, and every entry with
// an image extension that cannot be read as a file (a folder named x.jpg, a broken or
// looping symbolic link), each as "path: reason".
struct ImageListing {
  std::vector<std::filesystem::path> images;
  std::vector<std::string> skipped;
};
// Throws when `dir` is not a readable folder.
ImageListing list_images(const std::filesystem::path& dir);

// The folders of the program's data when the user names none, first found of:
//   1. ./<name> (models/ holding stage1/, web/ holding index.html): a checkout's working folder
//   2. <program folder>/../share/cephtrace/<name>: an installed cephtrace
//   3. <source tree>/<name>: the program in the build tree it was built in
// else "<name>" (messages then name ./<name>). default_model_dir() checks
// $CEPHTRACE_MODEL_DIR before all of them.
std::filesystem::path default_model_dir();
// The models trained on ISBI 001-150 only, for honest ISBI protocol figures (the shipped
// default also learnt from the test images): default_model_dir()/isbi2015-protocol.
std::filesystem::path protocol_model_dir();
std::filesystem::path default_web_dir();
// How the help texts describe the default: the order above and what it gives here.
std::string default_model_dir_help();

// The model options of the commands that run the models (predict, evaluate, the benchmark)
// as given on the command line; predictor_options() is the one place they become
// PredictorOptions.
struct ModelArgs {
  std::string model_dir;  // empty: default_model_dir()
  std::string decoder = "reference";
  int refine_passes = constants::kRefinePasses;
  double refine_share_radius = constants::kRefineShareRadius;
  double extended_repass_min_move = constants::kExtendedRepassMinMove;
  int threads = 0;
  bool strict = false, gpu = false, no_framing = false, no_anatomy_gate = false, no_extended = false,
       no_verify = false;
};
// Adds --model-dir, --no-verify, --gpu, --threads, --decoder, --refine-passes, --no-framing
// and --no-anatomy-gate to `cmd`, in option group `group`. --strict means something more in some
// commands, so each adds its own (into args.strict).
void add_model_options(CLI::App* cmd, ModelArgs& args, const std::string& group = "Model");
PredictorOptions predictor_options(const ModelArgs& args);
// --help of every --threads option (PredictorOptions::threads says why it reads so).
extern const char* const kThreadsHelp;
// Loads the models, with a warning on stderr for each one that is unavailable.
Predictor load_predictor(const PredictorOptions& options);
// Folder runs: --jobs (images predicted at once, each by its own copy of the models).
void add_jobs_option(CLI::App* cmd, int& jobs);

// --analyses steiner,wits,...: which clinical analyses to report (AnalysisOptions::analyses).
CLI::Option* add_analyses_option(CLI::App* cmd, std::vector<std::string>& analyses);
// `jobs` Predictors for run_batch (warnings once). With threads 0 each job's OpenCV pool gets
// cores/jobs threads: the pool is process-wide, and jobs x threads should fit the cores.
std::vector<Predictor> load_predictors(PredictorOptions options, int jobs);
std::vector<Predictor*> pointers(std::vector<Predictor>& predictors);

// Option checks shared by the subcommands.
CLI::Validator nonempty_path();      // an output path given as '' is an error, not "no output"
CLI::Validator pixel_spacing_mm();   // finite, in the plausible range of limits.hpp
// --max-pixels, --max-aspect-ratio, --max-file-mb, --max-json-depth: set the limits of
// cephtrace/limits.hpp for this run.
void add_limit_options(CLI::App* cmd);

}  // namespace cephtrace::cli
