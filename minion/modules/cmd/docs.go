package cmd

// The functions' documentation, as sys.doc shows it.
const (
	runDoc = `Execute the passed command and return the output as a string

cmd: The command to run. ex: ls -lart /home
cwd: The directory from which to execute the command. Defaults to the home directory of the user specified by runas (or the user under which Salt is running if runas is not specified).
stdin: A string of standard input can be specified for the command to be run using the stdin parameter.
runas: Specify an alternate user to run the command.
group: Group to run command as.
shell: Specify an alternate shell. Defaults to the system's default shell.
python_shell: If False, let python handle the positional arguments. Set to True to use shell features, such as pipes or redirection. Defaults to True when called from the command line.
env: Environment variables to be set prior to execution.
clean_env: Attempt to clean out all other shell environment variables and set only those provided in the 'env' argument to this function.
prepend_path: $PATH segment to prepend (trailing ':' not necessary) to $PATH
rstrip: Strip all whitespace off the end of output before it is returned.
umask: The umask (in octal) to use when running the command.
output_loglevel: Control the loglevel at which the output from the command is logged to the minion log.
ignore_retcode: If the exit code of the command is nonzero, this is treated as an error condition; pass True to not.
hide_output: If True, suppress stdout and stderr in the return data.
timeout: A timeout in seconds for the executed process to return.
raise_err: If True and the command has a nonzero exit code, a CommandExecutionError exception will be raised.
success_retcodes: A list of non-zero return codes that should be considered a success.
success_stdout: A list of strings that when found in standard out should be considered a success.
success_stderr: A list of strings that when found in standard error should be considered a success.
stdin_raw_newlines: If True, Salt will not automatically convert the characters \n present in the stdin value to newlines.

CLI Example:

    salt '*' cmd.run "ls -l | awk '/foo/{print \\$2}'"
    salt '*' cmd.run "grep f" stdin='one\\ntwo\\nthree\\nfour\\nfive\\n'
    salt '*' cmd.run cmd='sed -e s/=/:/g'`

	shellDoc = `Execute the passed command and return the output as a string.

Takes the arguments of cmd.run, and always passes the command through the shell (python_shell=True).

CLI Example:

    salt '*' cmd.shell "ls -l | awk '/foo/{print \\$2}'"
    salt '*' cmd.shell cmd='sed -e s/=/:/g'`

	runStdoutDoc = `Execute a command, and only return the standard out

Takes the arguments of cmd.run.

CLI Example:

    salt '*' cmd.run_stdout "ls -l | awk '/foo/{print \\$2}'"`

	runStderrDoc = `Execute a command and only return the standard error

Takes the arguments of cmd.run.

CLI Example:

    salt '*' cmd.run_stderr "ls -l | awk '/foo/{print \\$2}'"`

	runAllDoc = `Execute the passed command and return a dict of return data (pid, retcode, stdout, stderr)

Takes the arguments of cmd.run, and:
redirect_stderr: If set to True, then stderr will be redirected to stdout.

CLI Example:

    salt '*' cmd.run_all "ls -l | awk '/foo/{print \\$2}'"`

	retcodeDoc = `Execute a shell command and return the command's return code.

Takes the arguments of cmd.run.

CLI Example:

    salt '*' cmd.retcode "file /bin/bash"`

	scriptDoc = `Download a script from a remote location and execute the script locally.
The script can be located on the salt master file server or on the minion (an absolute path).

The script will be executed directly, so it can be written in any available programming language.

source: The location of the script to download. If the file is located on the master in the directory named spam, and is called eggs, the source string is salt://spam/eggs
args: String of command line args to pass to the script.
cwd: The directory from which to execute the command.
Other arguments: those of cmd.run.

Returns a dict of pid, retcode, stdout and stderr.

CLI Example:

    salt '*' cmd.script salt://scripts/runme.sh
    salt '*' cmd.script salt://scripts/runme.sh 'arg1 arg2 "arg 3"'`
)
