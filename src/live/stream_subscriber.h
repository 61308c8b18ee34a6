// StreamSubscriber: a consumer of every frame of a stream for the stream's
// whole life, independent of viewers (HLS segmenters, recorders). Created
// with the stream from the factories given to the Hub.
//
// Contract: all calls happen on the stream's home worker, in order:
// on_publisher_session() at each publish (first and reconnects), on_frame()
// per frame with its dts already on the stream's timeline, on_finish() once
// when the stream ends (after its grace period).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "media/frame.h"

namespace cascade::live {

class StreamSubscriber {
 public:
  virtual ~StreamSubscriber() = default;
  virtual void on_publisher_session() = 0;
  virtual void on_frame(const media::Frame& frame) = 0;
  virtual void on_finish() = 0;
};

// Called once per new stream (under the hub's registry lock: keep it cheap
// and never call back into the Hub). May return nullptr (not interested).
using StreamSubscriberFactory =
    std::function<std::unique_ptr<StreamSubscriber>(const std::string& key, size_t home_worker)>;

}  // namespace cascade::live
