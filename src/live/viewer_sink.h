// ViewerSink: what the hub needs from a viewer's connection. Implemented by
// the servers (RTMP play, HTTP-FLV); the hub itself knows no sockets.
//
// Contract: all calls happen on the viewer's worker thread. write() is never
// called while a previous write is outstanding; the sink must finish every
// write with exactly one Viewer::on_write_complete() call, also when the
// connection fails or is closed (then with ok = false).
#pragma once

#include <boost/asio/buffer.hpp>
#include <span>
#include <string_view>

#include "live/stream_info.h"

namespace cascade::live {

class ViewerSink {
 public:
  virtual ~ViewerSink() = default;
  // The stream's feed is ready; called once, before the first write.
  virtual void on_start(const StreamInfo& info) = 0;
  // Write these bytes, in order, after anything the sink itself must send first.
  virtual void write(std::span<const boost::asio::const_buffer> buffers) = 0;
  // The stream ended for good. The sink ends its output and closes.
  virtual void on_end() = 0;
  // The hub dropped this viewer (too far behind, write stalled).
  virtual void on_closed(std::string_view reason) = 0;
};

}  // namespace cascade::live
