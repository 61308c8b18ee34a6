#include "vod/index_warmup.h"

namespace cascade::vod {

using boost::asio::awaitable;

namespace {

// True when every index `needs` names is already kept. The HLS plan is
// not checked: it is built from a kept index in a fraction of the parse
// (one entry per segment), so a missing plan alone is built where it is
// asked for.
bool all_cached(VodCaches& caches, const FileIdentity& id, const IndexNeeds& needs) {
  if (needs.mp4_index && !caches.mp4_indexes.contains(id)) return false;
  if (needs.flv_index && !caches.flv_indexes.contains(id)) return false;
  return true;
}

}  // namespace

awaitable<void> warm_indexes(net::IoPool& io, VodCaches& caches, const OpenedFile& file,
                             IndexNeeds needs) {
  const FileIdentity id = identity_of(file);
  if (all_cached(caches, id, needs)) co_return;
  // The file stays open (the route owns the descriptor) until the responder
  // is done, so the job reads the very file the request opened.
  auto build = [&caches, &file, &id, &needs] {
    if (needs.mp4_index) {
      auto index = caches.mp4_indexes.get(file.fd, id);
      if (index && needs.hls_plan) {
        (void)caches.hls_plans.get(id, *index.value(), needs.hls_segment_target_ms);
      }
    }
    if (needs.flv_index) (void)caches.flv_indexes.get(file.fd, id);
    return true;
  };
  co_await io.run(build);
}

}  // namespace cascade::vod
