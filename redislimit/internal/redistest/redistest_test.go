package redistest_test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/redislimit/internal/redistest"
)

func TestStartKillRestart(t *testing.T) {
	srv := redistest.Start(t)
	require.NotZero(t, srv.PID())
	c, err := net.Dial("tcp", srv.Addr)
	require.NoError(t, err)
	require.NoError(t, c.Close())

	srv.Kill()
	require.Zero(t, srv.PID())
	_, err = net.Dial("tcp", srv.Addr)
	require.Error(t, err, "a killed server refuses connections")

	srv.Restart()
	require.NotZero(t, srv.PID())
	c, err = net.Dial("tcp", srv.Addr)
	require.NoError(t, err)
	require.NoError(t, c.Close())
}
