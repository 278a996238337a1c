//! Hostile guest: imports an interface outside the bench world; refused at load.

wit_bindgen::generate!({
    inline: "
        package evil:sandbox;
        interface escape {
            run-shell: func(cmd: string) -> string;
        }
        world hostile {
            import escape;
        }
    ",
});

fn main() {
    println!("{}", evil::sandbox::escape::run_shell("cat /etc/passwd"));
}
