#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>

// Swift imports neither these macros nor the mutable globals behind them.
static inline WINDOW *btviz_stdscr(void) { return stdscr; }
static inline int btviz_lines(void) { return LINES; }
static inline int btviz_cols(void) { return COLS; }
static inline int btviz_maxy(WINDOW *w) { return getmaxy(w); }
static inline int btviz_maxx(WINDOW *w) { return getmaxx(w); }
static inline attr_t btviz_bold(void) { return A_BOLD; }
static inline attr_t btviz_dim(void) { return A_DIM; }
static inline attr_t btviz_reverse(void) { return A_REVERSE; }
static inline attr_t btviz_color_pair(short n) { return COLOR_PAIR(n); }
static inline int btviz_key_resize(void) { return KEY_RESIZE; }
static inline int btviz_key_left(void) { return KEY_LEFT; }
static inline int btviz_key_right(void) { return KEY_RIGHT; }
static inline int btviz_key_up(void) { return KEY_UP; }
static inline int btviz_key_down(void) { return KEY_DOWN; }
static inline int btviz_err(void) { return ERR; }
