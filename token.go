package gatehouse

import "context"

// AuthenticateToken checks a bearer access token.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (Principal, error) {
	return Principal{}, Errorf(CodeInvalidToken, "token mode is not enabled on this server")
}
