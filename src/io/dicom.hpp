// DICOM decoding with DCMTK (internal to the io module).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "cephtrace/image_io.hpp"

namespace cephtrace::detail {

// True when `bytes` carry the "DICM" magic after the 128-byte preamble.
bool has_dicom_magic(std::span<const uint8_t> bytes);

// Decodes the first frame of a DICOM file held in memory. Monochrome images get their
// first VOI window (else VOI LUT, else the min–max range); MONOCHROME1 is inverted so
// that it looks like MONOCHROME2. The size is not checked here. Throws ImageError naming
// `source`.
LoadedImage decode_dicom(std::span<const uint8_t> bytes, const std::string& source);

}  // namespace cephtrace::detail
