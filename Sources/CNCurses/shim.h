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

// Explorer: terminal checks and keys Swift does not import reliably.
#include <ncursesw/term.h>
// 1 when terminfo knows `term` and it can address the cursor; leaves no terminal set up.
static inline int btviz_terminfo_usable(const char *term) {
    int err = 0;
    TERMINAL *saved = cur_term;
    int ok = 0;
    if (setupterm((char *)term, 1, &err) == OK) {
        char *cup = tigetstr("cup");
        ok = cup != NULL && cup != (char *)-1;
        del_curterm(cur_term);
    }
    set_curterm(saved);
    return ok;
}
static inline int btviz_key_home(void) { return KEY_HOME; }
static inline int btviz_key_end(void) { return KEY_END; }
static inline int btviz_key_ppage(void) { return KEY_PPAGE; }
static inline int btviz_key_npage(void) { return KEY_NPAGE; }
static inline int btviz_key_btab(void) { return KEY_BTAB; }
static inline int btviz_attrset(WINDOW *w, attr_t a) { return wattrset(w, (int)a); }

// Mouse: clicks, drags and the wheel (btop is the anchor). Swift does not import the BUTTON* macros.
static inline int btviz_key_mouse(void) { return KEY_MOUSE; }
static inline void btviz_enable_mouse(void) {
    mousemask(ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION, NULL);
    mouseinterval(0);
}
// 0 nothing usable, 1 press, 2 release, 3 wheel up, 4 wheel down, 5 motion.
static inline int btviz_read_mouse(int *x, int *y) {
    MEVENT ev;
    if (getmouse(&ev) != OK) return 0;
    *x = ev.x; *y = ev.y;
    if (ev.bstate & BUTTON4_PRESSED) return 3;
#ifdef BUTTON5_PRESSED
    if (ev.bstate & BUTTON5_PRESSED) return 4;
#endif
    if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) return 1;
    if (ev.bstate & BUTTON1_RELEASED) return 2;
    if (ev.bstate & REPORT_MOUSE_POSITION) return 5;
    return 0;
}
