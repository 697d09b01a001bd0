scale_runs() { :; }; ping_run() { :; }
