// `import cephtrace`: the engine's public API for Python (pybind11).
//
// - Results and reports are the C++ objects; their to_dict() is the C++ JSON writer's output
//   read back with Python's json module, so Python and `cephtrace predict` never disagree.
// - NumPy images are wrapped, not copied (the engine converts them once, as for any image).
// - The GIL is released while models load and images are predicted, evaluated or fetched.
// - C++ errors keep their messages: ImageError, ModelError, GroundTruthError and LimitError
//   become the exceptions of the same names (subclasses of cephtrace.Error and of ValueError
//   or RuntimeError), a missing image file FileNotFoundError, std::invalid_argument
//   ValueError, anything else RuntimeError.
#include <nlohmann/json.hpp>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cephtrace/analysis.hpp"
#include "cephtrace/download.hpp"
#include "cephtrace/evaluate.hpp"
#include "cephtrace/ground_truth.hpp"
#include "cephtrace/image_io.hpp"
#include "cephtrace/limits.hpp"
#include "cephtrace/model_contract.hpp"  // ModelError
#include "cephtrace/predictor.hpp"
#include "cephtrace/result.hpp"
#include "cephtrace/version.hpp"

namespace py = pybind11;
namespace fs = std::filesystem;
using namespace cephtrace;

namespace {

// ---- Errors ---------------------------------------------------------------------------------

struct ExceptionTypes {
  PyObject* error = nullptr;  // cephtrace.Error, the base of the others
  PyObject* image = nullptr;
  PyObject* model = nullptr;
  PyObject* ground_truth = nullptr;
  PyObject* limit = nullptr;
};
ExceptionTypes exception_types;

// A missing image file: FileNotFoundError in Python, with the engine's message.
struct FileNotFound : std::runtime_error {
  using std::runtime_error::runtime_error;
};

PyObject* new_exception(py::module_& m, const char* name, std::vector<PyObject*> bases,
                        const char* doc) {
  py::tuple base_tuple(bases.size());
  for (size_t i = 0; i < bases.size(); ++i)
    base_tuple[i] = py::reinterpret_borrow<py::object>(bases[i]);
  PyObject* type = PyErr_NewExceptionWithDoc((std::string("cephtrace.") + name).c_str(), doc,
                                             base_tuple.ptr(), nullptr);
  if (!type) throw py::error_already_set();
  m.attr(name) = py::reinterpret_borrow<py::object>(type);  // the module keeps it alive
  return type;
}

void register_exceptions(py::module_& m) {
  auto& t = exception_types;
  t.error = new_exception(m, "Error", {PyExc_Exception}, "Base class of CephTrace's errors.");
  t.image = new_exception(m, "ImageError", {t.error, PyExc_ValueError},
                          "An unreadable or unusable image; the message names it and the problem.");
  t.model = new_exception(m, "ModelError", {t.error, PyExc_RuntimeError},
                          "A model file that is missing, unloadable or does not match its contract.");
  t.ground_truth = new_exception(m, "GroundTruthError", {t.error, PyExc_ValueError},
                                 "Unusable ground-truth or prediction JSON; names the file.");
  t.limit = new_exception(m, "LimitError", {t.error, PyExc_ValueError},
                          "Input beyond the engine's safety limits (size, aspect ratio, depth).");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FileNotFound& e) {
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    } catch (const ImageError& e) {
      PyErr_SetString(exception_types.image, e.what());
    } catch (const ModelError& e) {
      PyErr_SetString(exception_types.model, e.what());
    } catch (const GroundTruthError& e) {
      PyErr_SetString(exception_types.ground_truth, e.what());
    } catch (const LimitError& e) {
      PyErr_SetString(exception_types.limit, e.what());
    }
  });
}

// ---- JSON between C++ and Python: one writer and one reader on each side -------------------

template <typename Json>  // nlohmann::json or ordered_json (whose key order Python keeps)
py::object to_python(const Json& j) {
  return py::module_::import("json").attr("loads")(
      j.dump(-1, ' ', false, Json::error_handler_t::replace));
}
nlohmann::json from_python(const py::handle& obj) {
  // allow_nan=False: NaN is not JSON, and the engine's readers refuse what is not.
  const auto text = py::module_::import("json").attr("dumps")(obj, py::arg("allow_nan") = false);
  return nlohmann::json::parse(text.cast<std::string>());
}

// One field of a result's JSON (None when absent): the writer's view of it, not a second one.
py::object json_field(const PredictionResult& r, const char* key) {
  const auto j = to_json(r);
  return j.contains(key) ? to_python(j[key]) : py::none();
}

// ---- Arguments --------------------------------------------------------------------------------

bool is_path(const py::handle& obj) {
  return py::isinstance<py::str>(obj) || py::hasattr(obj, "__fspath__");
}
fs::path to_path(const py::handle& obj) {
  return py::module_::import("os").attr("fspath")(obj).cast<fs::path>();
}
std::string type_name(const py::handle& obj) {
  return py::str(py::type::of(obj).attr("__name__")).cast<std::string>();
}

template <typename Enum>
Enum parse_choice(const std::string& what, const std::string& value,
                  std::initializer_list<std::pair<const char*, Enum>> choices) {
  std::string names;
  for (const auto& [name, e] : choices) {
    if (value == name) return e;
    names += (names.empty() ? "'" : ", '") + std::string(name) + "'";
  }
  throw std::invalid_argument(what + " '" + value + "' is not one of " + names);
}

// ---- Models and images ------------------------------------------------------------------------

// Where this extension lies: an installed package bundles models/ there.
fs::path package_dir() {
  return fs::path(py::module_::import("cephtrace._cephtrace").attr("__file__").cast<std::string>())
      .parent_path();
}

// $CEPHTRACE_MODEL_DIR, ./models, the models installed with the package, or the models/
// folder of the source tree this module was built from (as the CLI does).
fs::path default_model_dir() {
  if (const char* env = std::getenv("CEPHTRACE_MODEL_DIR"); env && *env) return env;
  std::error_code ec;
  if (fs::is_directory("models/stage1", ec)) return "models";
  if (const fs::path bundled = package_dir() / "models"; fs::is_directory(bundled / "stage1", ec))
    return bundled;
#ifdef CEPHTRACE_SOURCE_MODEL_DIR
  return CEPHTRACE_SOURCE_MODEL_DIR;
#else
  return "models";
#endif
}

// A NumPy image as a cv::Mat over the array's own memory: uint8/uint16, H x W (grey) or
// H x W x 1/3/4 (grey, RGB, RGBA), pixels contiguous within each row (row padding is
// fine, so crops need no copy).
cv::Mat wrap_array(const py::array& a) {
  int depth = -1;
  if (a.dtype().is(py::dtype::of<uint8_t>())) depth = CV_8U;
  if (a.dtype().is(py::dtype::of<uint16_t>())) depth = CV_16U;
  if (depth < 0)
    throw py::type_error("image array has dtype " + py::str(a.dtype()).cast<std::string>() +
                         "; give uint8 or uint16 pixels (e.g. image.astype(numpy.uint8))");
  std::string shape;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape(i));
  const int channels = a.ndim() == 2 ? 1 : a.ndim() == 3 ? static_cast<int>(a.shape(2)) : 0;
  if (channels != 1 && channels != 3 && channels != 4)
    throw py::value_error("image array has shape (" + shape +
                          "); give H x W (grey), H x W x 3 (RGB) or H x W x 4 (RGBA)");
  const py::ssize_t item = a.itemsize();
  const bool rows_contiguous = (a.ndim() == 2 || a.strides(2) == item) &&
                               a.strides(1) == item * channels && a.strides(0) > 0 &&
                               a.strides(0) % item == 0 &&
                               a.strides(0) >= a.shape(1) * item * channels;
  if (!rows_contiguous && a.size() > 0)
    throw py::value_error("image array of shape (" + shape +
                          ") does not store its pixels row by row; pass "
                          "numpy.ascontiguousarray(image)");
  return cv::Mat(static_cast<int>(a.shape(0)), static_cast<int>(a.shape(1)),
                 CV_MAKETYPE(depth, channels), const_cast<void*>(a.data()),
                 static_cast<size_t>(a.strides(0)));
}

LoadedImage load_file(const fs::path& path) {
  try {
    return load_image(path);
  } catch (const ImageError& e) {
    std::error_code ec;
    if (!fs::exists(path, ec) && !fs::is_symlink(path, ec)) throw FileNotFound(e.what());
    throw;
  }
}

PredictorOptions make_options(const py::object& model_dir, int threads, bool strict, bool use_gpu,
                              const std::string& decoder, bool reference_exact,
                              const std::optional<std::string>& orientation,
                              const std::string& priors, int refine_passes, double refine_share_radius,
                              bool verify_models, bool framing, bool anatomy_gate, bool extended) {
  PredictorOptions o;
  o.model_dir = model_dir.is_none() ? default_model_dir() : to_path(model_dir);
  o.threads = threads;
  o.strict = strict;
  o.use_gpu = use_gpu;
  o.decoder = parse_choice<Decoder>("decoder", decoder,
                                    {{"reference", Decoder::Reference}, {"dark", Decoder::Dark}});
  o.reference_exact = reference_exact;
  if (orientation && *orientation != "auto")
    o.orientation = parse_choice<Orientation>(
        "orientation", *orientation,
        {{"left", Orientation::FacingLeft}, {"right", Orientation::FacingRight}});
  o.priors = parse_choice<PriorSource>("priors", priors,
                                       {{"stage0", PriorSource::Stage0}, {"zero", PriorSource::Zero}});
  if (refine_passes < 0) throw std::invalid_argument("refine_passes must be 0 or more");
  o.refine_passes = refine_passes;
  o.refine_share_radius = refine_share_radius;  // the Predictor checks its range
  o.verify_models = verify_models;
  o.framing = framing;
  o.anatomy_gate = anatomy_gate;
  o.extended = extended;
  return o;
}

PredictionResult predict(Predictor& predictor, const py::object& image,
                         std::optional<double> pixel_spacing_mm) {
  if (pixel_spacing_mm && !(*pixel_spacing_mm > 0))
    throw std::invalid_argument("pixel_spacing_mm must be a positive number of millimetres");
  const auto run = [&](LoadedImage loaded) {
    if (pixel_spacing_mm) loaded.pixel_spacing_mm = pixel_spacing_mm;
    return predictor.predict(loaded);
  };
  if (py::isinstance<py::array>(image)) {
    const auto array = py::reinterpret_borrow<py::array>(image);  // alive until we return
    const cv::Mat pixels = wrap_array(array);
    py::gil_scoped_release no_gil;
    return run(from_mat(pixels, "<array>", ChannelOrder::RGB));
  }
  if (py::isinstance<py::bytes>(image) || py::isinstance<py::bytearray>(image)) {
    const std::string bytes = py::isinstance<py::bytes>(image)
                                  ? image.cast<std::string>()
                                  : py::reinterpret_borrow<py::bytearray>(image).cast<std::string>();
    py::gil_scoped_release no_gil;
    return run(decode_image({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "<bytes>"));
  }
  if (is_path(image)) {
    const fs::path path = to_path(image);
    py::gil_scoped_release no_gil;
    const auto start = std::chrono::steady_clock::now();
    LoadedImage loaded = load_file(path);
    const std::chrono::duration<double, std::milli> load_ms = std::chrono::steady_clock::now() - start;
    PredictionResult result = run(std::move(loaded));
    // Timed like Predictor::predict(path), which cannot take pixel_spacing_mm.
    result.timings_ms.insert(result.timings_ms.begin(), {TimedStage::LoadImage, load_ms.count()});
    return result;
  }
  throw py::type_error("predict() takes an image file path, the bytes of an image file or a "
                       "NumPy array, not " + type_name(image));
}

// ---- Analyses, evaluation -----------------------------------------------------------------

// A predict result (object, dict or JSON file) or ground truth, as named landmark sets.
using NamedLandmarkSets = decltype(load_landmark_sets(std::declval<fs::path>()));
NamedLandmarkSets landmark_sets(const py::object& obj) {
  if (py::isinstance<PredictionResult>(obj))
    return {{"", landmarks_from_result(obj.cast<const PredictionResult&>())}};
  if (is_path(obj)) return load_landmark_sets(to_path(obj));
  if (py::isinstance<py::dict>(obj)) return landmark_sets_from_json(from_python(obj));
  throw py::type_error("analyze() takes a PredictionResult, a predict result or ground-truth "
                       "dict, or the path of such a JSON file, not " + type_name(obj));
}

// Predictions for evaluate(): a JSON file, a PredictionResult, a list of them, or a dict
// (a predict JSON, or image name -> PredictionResult / result dict).
std::vector<PredictedImage> predicted_images(const py::object& obj) {
  if (is_path(obj)) {
    const fs::path file = to_path(obj);
    py::gil_scoped_release no_gil;
    return read_predictions_file(file);
  }
  const auto as_json = [](const py::handle& item) -> nlohmann::json {
    if (py::isinstance<PredictionResult>(item))
      return nlohmann::json::parse(to_json(item.cast<const PredictionResult&>()).dump());
    return from_python(item);
  };
  if (py::isinstance<PredictionResult>(obj)) return predictions_from_json(as_json(obj), "<result>");
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    nlohmann::json batch = nlohmann::json::object();
    for (const auto& item : obj) {
      nlohmann::json one = as_json(item);
      const std::string key = one.value("source", std::string());
      if (key.empty() || batch.contains(key))
        throw std::invalid_argument("predictions: each result in a list needs its own image "
                                    "path as source; give a dict {image name: result} instead");
      batch[key] = std::move(one);
    }
    return predictions_from_json(batch, "<predictions>");
  }
  if (py::isinstance<py::dict>(obj)) {
    const auto dict = py::reinterpret_borrow<py::dict>(obj);
    if (dict.contains("landmarks")) return predictions_from_json(from_python(obj), "<predictions>");
    nlohmann::json batch = nlohmann::json::object();
    for (const auto& [key, value] : dict) batch[py::str(key).cast<std::string>()] = as_json(value);
    return predictions_from_json(batch, "<predictions>");
  }
  throw py::type_error("evaluate() takes predictions as a predict JSON file path, a "
                       "PredictionResult, a list of them, or a dict, not " + type_name(obj));
}

std::vector<GroundTruth> ground_truth_records(const py::object& obj) {
  if (!is_path(obj))
    throw py::type_error("evaluate() takes ground truth as a folder of <image stem>.json files "
                         "or one such file, not " + type_name(obj));
  const fs::path path = to_path(obj);
  std::vector<std::string> problems;
  std::vector<GroundTruth> truth;
  {
    py::gil_scoped_release no_gil;
    if (fs::is_directory(path)) {
      truth = read_ground_truth_dir(path, problems);
    } else {
      truth.push_back(read_ground_truth_file(path));
    }
  }
  for (const auto& p : problems)
    PyErr_WarnEx(PyExc_UserWarning, ("ground truth skipped: " + p).c_str(), 2);
  return truth;
}

// ---- Downloads --------------------------------------------------------------------------------

std::string_view status_name(DownloadStatus s) {
  switch (s) {
    case DownloadStatus::Downloaded: return "downloaded";
    case DownloadStatus::Skipped: return "skipped";
    case DownloadStatus::Failed: return "failed";
  }
  return "failed";
}

py::dict download(const py::object& output_dir, const std::optional<std::vector<std::string>>& keys,
                  bool force, const std::optional<std::string>& endpoint,
                  const std::optional<std::string>& repo_id, const std::optional<std::string>& revision,
                  const std::optional<std::string>& token, const py::object& progress) {
  DownloadOptions o = download_options_from_environment();
  if (!output_dir.is_none()) o.output_dir = to_path(output_dir);
  if (keys) o.keys = *keys;
  o.force = force;
  if (endpoint) o.endpoint = *endpoint;
  if (repo_id) o.repo_id = *repo_id;
  if (revision) o.revision = *revision;
  if (token) o.token = *token;
  // An exception raised by the callback aborts the transfer and is raised again here.
  std::optional<py::error_already_set> callback_error;
  if (!progress.is_none()) {
    o.on_progress = [&](const DownloadProgress& p) {
      py::gil_scoped_acquire gil;
      if (callback_error) throw std::runtime_error("progress callback failed");
      try {
        py::dict d;
        d["key"] = std::string(p.key);
        d["relative_path"] = std::string(p.relative_path);
        d["bytes_done"] = p.bytes_done;
        d["bytes_total"] = p.bytes_total;
        d["bytes_per_second"] = p.bytes_per_second;
        d["eta_seconds"] = p.eta_seconds < 0 ? py::none() : py::cast(p.eta_seconds);
        progress(d);
      } catch (py::error_already_set& e) {
        callback_error.emplace(std::move(e));
        throw std::runtime_error("progress callback failed");
      }
    };
  }
  DownloadReport report;
  {
    py::gil_scoped_release no_gil;
    report = download_weights(o);
  }
  if (callback_error) throw std::move(*callback_error);
  py::list files;
  for (const auto& f : report.files) {
    py::dict d;
    d["key"] = f.key;
    d["path"] = f.path.string();
    d["status"] = std::string(status_name(f.status));
    d["bytes"] = f.bytes;
    d["message"] = f.message;
    files.append(d);
  }
  py::dict out;
  out["ok"] = report.ok();
  out["output_dir"] = o.output_dir.string();
  out["files"] = files;
  return out;
}

std::string landmark_repr(const LandmarkPrediction& l) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "Landmark(%s, x=%.1f, y=%.1f, peak=%.2f, confidence='%s')",
                l.name.c_str(), l.x, l.y, l.peak, l.confidence.c_str());
  return buf;
}

}  // namespace

PYBIND11_MODULE(_cephtrace, m) {
  m.doc() = "CephTrace: cephalometric landmark detection (the C++ engine's Python module).";
  m.attr("__version__") = CEPHTRACE_VERSION_STRING;
  // Classes and functions present themselves as cephtrace.X (in help() and signatures too),
  // where users find them; the module gets its own name back at the end.
  const py::object own_name = m.attr("__name__");
  m.attr("__name__") = "cephtrace";
  register_exceptions(m);

  using Refinement = LandmarkPrediction::Refinement;
  py::class_<Refinement>(m, "Refinement", "Stage 2's refinement of one landmark.")
      .def_readonly("stage1_x", &Refinement::stage1_x, "Stage 1's x (original pixels)")
      .def_readonly("stage1_y", &Refinement::stage1_y, "Stage 1's y (original pixels)")
      .def_readonly("peak", &Refinement::peak, "Stage 2 heatmap peak")
      .def_readonly("applied", &Refinement::applied,
                    "False: the peak was too low and Stage 1's position was kept")
      .def_readonly("moved_grid_px", &Refinement::moved_grid_px)
      .def_readonly("spread_grid_px", &Refinement::spread_grid_px);

  py::class_<LandmarkPrediction>(m, "Landmark", "One predicted landmark, in original image pixels.")
      .def_readonly("index", &LandmarkPrediction::index, "0..24 canonical, 25..38 extended")
      .def_readonly("name", &LandmarkPrediction::name, "canonical or extended name: 'S', 'N', ..., 'U6'")
      .def_readonly("x", &LandmarkPrediction::x)
      .def_readonly("y", &LandmarkPrediction::y)
      .def_readonly("peak", &LandmarkPrediction::peak, "Stage 1 heatmap maximum")
      .def_readonly("confidence_score", &LandmarkPrediction::confidence_score)
      .def_readonly("confidence", &LandmarkPrediction::confidence, "'high' | 'medium' | 'low'")
      .def_readonly("confidence_label", &LandmarkPrediction::confidence,
                    "the reference package's name for confidence")
      .def_property_readonly("tier", [](const LandmarkPrediction& l) { return std::string(tier_name(l.tier)); })
      .def_readonly("refinement", &LandmarkPrediction::refinement, "Stage 2's refinement, or None")
      .def_readonly("relocated", &LandmarkPrediction::relocated,
                    "True when the anatomical gate moved Stage 1's answer (confidence is then 'low')")
      .def_readonly("extended", &LandmarkPrediction::extended,
                    "True for the extended landmarks (index 25..38), placed by the extended model")
      .def("__repr__", &landmark_repr);

  py::class_<PredictionResult>(m, "PredictionResult",
                               "The landmarks of one image; to_dict() is the `cephtrace predict` JSON.")
      .def_readonly("source", &PredictionResult::source, "the file path, '<array>' or '<bytes>'")
      .def_readonly("original_width", &PredictionResult::original_width)
      .def_readonly("original_height", &PredictionResult::original_height)
      .def_readonly("degraded", &PredictionResult::degraded)
      .def_readonly("degraded_reasons", &PredictionResult::degraded_reasons)
      .def_readonly("landmarks", &PredictionResult::landmarks,
                    "25 landmarks, canonical order, then the extended ones when the extended model ran")
      .def_property_readonly("orientation",
                             [](const PredictionResult& r) { return std::string(orientation_name(r.orientation)); },
                             "which way the face looks: 'left' | 'right'")
      .def_readonly("orientation_detected", &PredictionResult::orientation_detected)
      .def_readonly("orientation_method", &PredictionResult::orientation_method)
      .def_readonly("pixel_spacing_mm", &PredictionResult::pixel_spacing_mm)
      .def_readonly("decoder", &PredictionResult::decoder)
      .def_readonly("priors", &PredictionResult::priors)
      .def_readonly("refinement", &PredictionResult::refinement, "'stage2' or 'none'")
      .def_readonly("confidence_method", &PredictionResult::confidence_method)
      .def_readonly("stage0_status", &PredictionResult::stage0_status, "phase ('0A'..'0E') -> succeeded")
      .def_property_readonly("stage0_details", [](const PredictionResult& r) { return json_field(r, "stage0_details"); },
                             "phase -> what it found (as in the JSON)")
      .def_property_readonly("framing", [](const PredictionResult& r) { return json_field(r, "framing"); },
                             "the field-of-view normalisation (as in the JSON), None when not tried")
      .def_property_readonly("timings_ms", [](const PredictionResult& r) { return json_field(r, "timings_ms"); },
                             "stage -> milliseconds, in run order")
      .def_readonly("models_loaded", &PredictionResult::models_loaded)
      .def("landmark", [](const PredictionResult& r, const std::string& name) -> const LandmarkPrediction& {
        for (const auto& l : r.landmarks)
          if (l.name == name) return l;
        throw py::key_error("no landmark named '" + name + "'");
      }, py::arg("name"), py::return_value_policy::copy, "The landmark of this canonical name.")
      .def("to_dict", [](const PredictionResult& r) { return to_python(to_json(r)); },
           "The result as the `cephtrace predict` JSON (same keys, same order).")
      .def("to_json", [](const PredictionResult& r, int indent) { return to_json(r).dump(indent); },
           py::arg("indent") = 2, "The `cephtrace predict` JSON text.")
      .def("__repr__", [](const PredictionResult& r) {
        return "PredictionResult(source='" + r.source + "', " + std::to_string(r.original_width) + "x" +
               std::to_string(r.original_height) + ", " + std::to_string(r.landmarks.size()) +
               " landmarks" + (r.degraded ? ", degraded" : "") + ")";
      });

  const PredictorOptions defaults;
  py::class_<Predictor>(m, "Predictor", R"doc(
Loads the models once; predict() then finds the 25 landmarks on any number of images.

Predictor(model_dir=None, *, threads=0, strict=False, use_gpu=False, decoder='reference',
          reference_exact=False, orientation=None, priors='stage0', refine_passes=1,
          refine_share_radius=16.0, verify_models=True, framing=True, anatomy_gate=True,
          extended=True)

model_dir: a folder with stage0/, stage1/ (and stage2/) models; None: $CEPHTRACE_MODEL_DIR,
./models, or the models installed with the package. The options are those of
`cephtrace predict` (orientation: None/'auto', 'left' or 'right'; decoder: 'reference' or
'dark'; priors: 'stage0' or 'zero'; refine_passes: 0 turns Stage 2 off; refine_share_radius:
Stage 2 landmarks this close (refinement-grid pixels) share a patch, 0 = one each; extended: the 14
extended landmarks after the 25, when the folder has extended/refine_extended.onnx). One Predictor may
be shared by threads: its predict() calls run one at a time, with the GIL released.
Raises ModelError (naming the file) when a model is missing or unusable.)doc")
      .def(py::init([](const py::object& model_dir, int threads, bool strict, bool use_gpu,
                       const std::string& decoder, bool reference_exact,
                       const std::optional<std::string>& orientation, const std::string& priors,
                       int refine_passes, double refine_share_radius, bool verify_models, bool framing,
                       bool anatomy_gate, bool extended) {
             PredictorOptions o = make_options(model_dir, threads, strict, use_gpu, decoder, reference_exact,
                                               orientation, priors, refine_passes, refine_share_radius,
                                               verify_models, framing, anatomy_gate, extended);
             py::gil_scoped_release no_gil;
             return std::make_unique<Predictor>(std::move(o));
           }),
           py::arg("model_dir") = py::none(), py::kw_only(), py::arg("threads") = defaults.threads,
           py::arg("strict") = defaults.strict, py::arg("use_gpu") = defaults.use_gpu,
           py::arg("decoder") = defaults.decoder == Decoder::Dark ? "dark" : "reference",
           py::arg("reference_exact") = defaults.reference_exact,
           py::arg("orientation") = py::none(),
           py::arg("priors") = defaults.priors == PriorSource::Zero ? "zero" : "stage0",
           py::arg("refine_passes") = defaults.refine_passes,
           py::arg("refine_share_radius") = defaults.refine_share_radius,
           py::arg("verify_models") = defaults.verify_models, py::arg("framing") = defaults.framing,
           py::arg("anatomy_gate") = defaults.anatomy_gate, py::arg("extended") = defaults.extended)
      .def("predict", &predict, py::arg("image"), py::kw_only(), py::arg("pixel_spacing_mm") = py::none(),
           R"doc(
The landmarks of one image: a file path (str or os.PathLike; JPEG, PNG, BMP, TIFF, DICOM),
the bytes of such a file, or a NumPy array (uint8 or uint16; H x W grey, H x W x 3 RGB or
H x W x 4 RGBA, rows contiguous: used without copying). pixel_spacing_mm: mm per pixel when
known (DICOM files carry their own). Raises FileNotFoundError, ImageError, ModelError.)doc")
      .def_property_readonly("model_dir", [](const Predictor& p) { return p.options().model_dir; })
      .def_property_readonly("loaded_models", &Predictor::loaded_models)
      .def_property_readonly("missing_models", [](const Predictor& p) {
        py::dict d;
        for (const auto& [key, why] : p.missing_models()) d[py::str(key)] = why;
        return d;
      }, "why each Stage 0 model is unavailable (key -> message); empty when all loaded")
      .def_property_readonly("stage0_available", &Predictor::stage0_available);

  py::class_<AnalysisReport>(m, "AnalysisReport", "Clinical measurements; str() is the table.")
      .def("to_dict", [](const AnalysisReport& r) { return to_python(to_json(r)); },
           "The `cephtrace analyze` JSON.")
      .def("__getitem__", [](const AnalysisReport& r, const std::string& key) {
        if (const Measurement* found = r.find(key)) return found->value;
        if (const UnavailableMeasurement* na = r.find_unavailable(key))
          throw py::key_error(key + " not available: " + na->reason);
        throw py::key_error("no measurement named '" + key + "'");
      }, "The value of one measurement, e.g. report['ANB'].")
      .def_readonly("length_unit", &AnalysisReport::length_unit)
      .def_readonly("warnings", &AnalysisReport::warnings)
      .def("__str__", &format_table);

  m.def("analyze", [](const py::object& landmarks, std::optional<double> pixel_spacing_mm,
                      bool allow_low_confidence, bool sn_scaled,
                      const std::vector<std::string>& analyses) -> py::object {
    AnalysisOptions o;
    o.pixel_spacing_mm = pixel_spacing_mm;
    o.allow_low_confidence = allow_low_confidence;
    o.sn_scaled = sn_scaled;
    o.analyses = analyses;
    const auto sets = landmark_sets(landmarks);
    if (sets.size() == 1 && sets[0].first.empty()) return py::cast(analyze(sets[0].second, o));
    py::dict batch;
    for (const auto& [name, set] : sets) batch[py::str(name)] = analyze(set, o);
    return batch;
  }, py::arg("landmarks"), py::kw_only(), py::arg("pixel_spacing_mm") = py::none(),
     py::arg("allow_low_confidence") = false, py::arg("sn_scaled") = false,
     py::arg("analyses") = std::vector<std::string>{}, R"doc(
Steiner, Wits, Downs, Tweed, Björk-Jarabak, McNamara, Ricketts, Holdaway and Burstone-Legan
analyses of one landmark set (analyses=['steiner', 'wits', ...] chooses; ValueError for an
unknown one): a PredictionResult, a predict result or ground-truth dict, or the path of such
a JSON file. Measures needing the extended landmarks (molars, PT, columella, soft-tissue
points) are listed as not available when the set lacks them.
A batch file gives a dict {image: AnalysisReport}. Lengths are in mm when the pixel spacing
is known (the result's, or pixel_spacing_mm), else in pixels, or with sn_scaled=True
scaled so that S-N = 71 mm.)doc");

  py::class_<EvaluationReport>(m, "EvaluationReport", "Accuracy against ground truth; str() is Markdown.")
      .def("to_dict", [](const EvaluationReport& r) { return to_python(to_json(r)); },
           "The `cephtrace evaluate` JSON.")
      .def("to_markdown", [](const EvaluationReport& r, bool sort_by_error) { return to_markdown(r, sort_by_error); },
           py::arg("sort_by_error") = true)
      .def_property_readonly("mre_mm", [](const EvaluationReport& r) { return r.overall.mre; })
      .def_property_readonly("n", [](const EvaluationReport& r) { return r.overall.n; })
      .def_property_readonly("sdr", [](const EvaluationReport& r) {
        py::dict d;
        for (size_t i = 0; i < r.thresholds_mm.size() && i < r.overall.sdr.size(); ++i)
          d[py::float_(r.thresholds_mm[i])] = r.overall.sdr[i];
        return d;
      }, "{threshold mm: fraction of landmarks within it}")
      .def("__str__", [](const EvaluationReport& r) { return to_markdown(r); });

  const EvaluationOptions eval_defaults;
  m.def("evaluate", [](const py::object& predictions, const py::object& ground_truth,
                       const std::string& scale, std::optional<double> pixel_spacing_mm,
                       std::vector<double> sdr_thresholds_mm, std::vector<std::string> landmarks,
                       int bootstrap_resamples, uint64_t seed) {
    EvaluationOptions o;
    const auto mode = parse_scale_mode(scale);
    if (!mode) throw std::invalid_argument("scale '" + scale + "' is not one of 'auto', 'recorded', 'sn71'");
    o.scale_mode = *mode;
    o.pixel_spacing_mm = pixel_spacing_mm;
    o.sdr_thresholds_mm = std::move(sdr_thresholds_mm);
    o.landmarks = std::move(landmarks);
    o.bootstrap_resamples = bootstrap_resamples;
    o.bootstrap_seed = seed;
    const auto preds = predicted_images(predictions);
    const auto truth = ground_truth_records(ground_truth);
    py::gil_scoped_release no_gil;
    return evaluate(truth, preds, o);
  }, py::arg("predictions"), py::arg("ground_truth"), py::kw_only(), py::arg("scale") = "auto",
     py::arg("pixel_spacing_mm") = py::none(), py::arg("sdr_thresholds_mm") = eval_defaults.sdr_thresholds_mm,
     py::arg("landmarks") = eval_defaults.landmarks,
     py::arg("bootstrap_resamples") = eval_defaults.bootstrap_resamples,
     py::arg("seed") = eval_defaults.bootstrap_seed, R"doc(
MRE and SDR of predictions against ground truth, matched by image file stem.
predictions: a predict JSON file path, a PredictionResult, a list of them, or a dict (a
predict JSON, or {image name: PredictionResult or result dict}). ground_truth: a folder of
<image stem>.json files (spec section 7) or one such file. scale: 'auto' (pixel_spacing_mm,
else the ground truth's, else the prediction's, else S-N = 71 mm), 'recorded' (never S-N)
or 'sn71' (the reference evaluator).)doc");

  m.def("download_weights", &download, py::arg("output_dir") = py::none(), py::kw_only(),
        py::arg("keys") = py::none(), py::arg("force") = false, py::arg("endpoint") = py::none(),
        py::arg("repo_id") = py::none(), py::arg("revision") = py::none(),
        py::arg("token") = py::none(), py::arg("progress") = py::none(), R"doc(
Fetches the published CephTrace v4 weights from the Hugging Face hub (as `cephtrace
download-weights`; HF_ENDPOINT and HF_TOKEN are honoured). keys: model names ('profile',
..., 'stage1'), None for all. progress: called with a dict (key, relative_path, bytes_done,
bytes_total, bytes_per_second, eta_seconds) as data arrives. Returns {'ok': bool,
'output_dir': str, 'files': [{'key', 'path', 'status', 'bytes', 'message'}]}; a file that
failed says why in its message.)doc");

  m.def("default_model_dir", [] { return default_model_dir(); },
        "The model folder a Predictor uses when given none.");
  m.attr("__name__") = own_name;
}
