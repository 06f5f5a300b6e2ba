#include "websocket/burst_trim.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tickwire::net::websocket_detail {

void return_free_heap_pages() {
#if defined(__GLIBC__)
  // 0: keep no slack at the top; glibc also releases whole free pages inside each arena.
  malloc_trim(0);
#endif
}

}  // namespace tickwire::net::websocket_detail
