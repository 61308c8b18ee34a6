// FlvPackager: frames -> FLV tags (FLV spec v10.1 E.4.1: tag header, body,
// PreviousTagSize), once per stream for all HTTP-FLV viewers.
#pragma once

#include <memory>

#include "live/packager.h"

namespace cascade::servers {

std::unique_ptr<live::Packager> make_flv_packager();

}  // namespace cascade::servers
