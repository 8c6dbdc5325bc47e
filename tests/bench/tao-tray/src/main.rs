//! A tray on `tray-icon` + `tao`, no Tauri: one icon, three menu items, no window. The
//! second baseline of tests/bench/tray.sh (the first is a bare Tauri tray).
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tray_icon::TrayIconBuilder;
use tray_icon::menu::{Menu, MenuEvent, MenuItem};

fn main() {
    // tao initialises GTK here; the tray must be made after it, on this thread.
    let event_loop = EventLoopBuilder::new().build();
    let png = image::load_from_memory(include_bytes!("../../../../icons/tray-ok-dark.png")).expect("icon").into_rgba8();
    let (width, height) = png.dimensions();
    let icon = tray_icon::Icon::from_rgba(png.into_raw(), width, height).expect("icon");
    let quit = MenuItem::new("Quit", true, None);
    let menu = Menu::new();
    menu.append_items(&[&MenuItem::new("First", true, None), &MenuItem::new("Second", true, None), &quit])
        .expect("menu");
    let _tray = TrayIconBuilder::new().with_icon(icon).with_menu(Box::new(menu)).build().expect("tray");
    let quit_id = quit.id().clone();
    MenuEvent::set_event_handler(Some(move |event: MenuEvent| {
        if event.id == quit_id {
            std::process::exit(0);
        }
    }));
    event_loop.run(|_event, _target, control_flow| *control_flow = ControlFlow::Wait);
}
