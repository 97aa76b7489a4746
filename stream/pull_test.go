package stream_test

import "iter"

func iterPull(seq iter.Seq2[string, error]) (func() (string, error, bool), func()) {
	return iter.Pull2(seq)
}
